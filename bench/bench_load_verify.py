"""What the corruption checks cost a load (chapter 6): `load_checkpoint(..., verify=True)` against `verify=False`.

A model of a few hundred MB (bf16) is saved three ways: ours in Meta's format (SHA256SUMS: every byte hashed), the
same files without SHA256SUMS (as Meta's downloads come: zip CRCs checked instead), and ours in Hugging Face's format
(SHA256SUMS). Every load is followed by a read of every page of every weight, as a first forward pass would do, so
that the lazily memory-mapped load without checks is not credited with work it only postpones. The files are in the
page cache (warm); from a cold disk the reading dominates and the checks cost relatively less.
Loads alternate (checked, unchecked, checked, ...) and the medians are compared, so a busy machine slows both alike.

    python bench/bench_load_verify.py [--reps 5] [--layers 8]
"""
import argparse, gc, shutil, statistics, tempfile, time
from pathlib import Path
import torch
from llama31_edu.checkpoints import CHECKSUM_FILE, load_checkpoint, save_hf_checkpoint, save_meta_checkpoint
from llama31_edu.model import ModelArgs, Transformer


def touch(model):
    "Read one value per 4 KiB page of every weight (what the first forward pass would fault in)."
    with torch.no_grad():
        return sum(float(p.view(-1)[:: 4096 // p.element_size()].float().sum()) for p in model.parameters())


def timed_load(path, verify):
    t = time.perf_counter()
    m = load_checkpoint(path, verify=verify); touch(m)
    dt = time.perf_counter() - t
    del m; gc.collect()
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--layers", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    args = ModelArgs(dim=1024, n_layers=a.layers, n_heads=16, n_kv_heads=8, vocab_size=32768, multiple_of=256, max_seq_len=256)
    with torch.device("meta"): m = Transformer(args)
    m = m.to_empty(device="cpu").to(torch.bfloat16)
    with torch.no_grad():
        for p in m.parameters(): p.uniform_(-0.02, 0.02)
    nbytes = sum(p.numel() * p.element_size() for p in m.parameters())
    tmp = Path(tempfile.mkdtemp())
    try:
        save_meta_checkpoint(m, tmp / "meta"); save_hf_checkpoint(m, tmp / "hf"); del m
        shutil.copytree(tmp / "meta", tmp / "download"); (tmp / "download" / CHECKSUM_FILE).unlink()
        print(f"model: {nbytes / 1e6:.0f} MB in bf16; {a.reps} interleaved loads each way, medians; torch threads 1")
        for name, what in (("meta", "ours, Meta format (SHA-256)"), ("download", "Meta format, no SHA256SUMS (zip CRC)"),
                           ("hf", "ours, HF format (SHA-256)")):
            timed_load(tmp / name, True); timed_load(tmp / name, False)          # warm the page cache
            on, off = [], []
            for _ in range(a.reps): on.append(timed_load(tmp / name, True)); off.append(timed_load(tmp / name, False))
            mon, moff = statistics.median(on), statistics.median(off)
            print(f"{what:40s} verify=True {mon:6.2f} s  verify=False {moff:6.2f} s  ratio {mon / moff:4.2f}x  "
                  f"(checks: {nbytes / 1e6 / max(mon - moff, 1e-9):,.0f} MB/s)")
    finally: shutil.rmtree(tmp)


if __name__ == "__main__": main()

"Solutions to chapter 10's exercises (chat and tools)."
import json, re


def chat_prompt(system: str, user: str) -> str:
    "Exercise 1: begin_of_text, then each message as header, blank line, text, eot; then the assistant's header."
    msg = lambda role, text: f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"
    return "<|begin_of_text|>" + msg("system", system) + msg("user", user) + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def parse_function_tag(text: str):
    "Exercise 2: `<function=NAME>{JSON object}</function>` -> (NAME, arguments); anything else -> None."
    m = re.fullmatch(r"<function=([^>]+)>(.*)</function>", text.strip())
    if m is None: return None
    try: args = json.loads(m[2])
    except json.JSONDecodeError: return None
    return (m[1], args) if isinstance(args, dict) else None


def answer_with_tool(conv, toolbox, question: str) -> str:
    "Exercise 3: one user turn; if the reply is a call, run it, send the result as an ipython message, ask again."
    from llama31_edu.chat import parse_tool_call
    tok = conv.tokenizer
    reply = conv.respond(conv.encode_message("user", question))
    if reply.tokens[:1] == [tok.python_tag_id]:
        result = toolbox.run(parse_tool_call(tok.decode(reply.tokens[1:])))
        reply = conv.respond(conv.encode_message("ipython", json.dumps(result)))
    return reply.text

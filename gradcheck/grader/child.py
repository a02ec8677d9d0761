"""The sandboxed side of grading: import the submission and run the calls the grader sends.

Run as ``python -I child.py SUBMISSION_FILE FD_IN FD_OUT``. Nothing here is
trusted by the grader: it answers with plain arrays over the private channel
and the grader judges them itself.
"""

import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importing  # noqa: E402  (next to this file; the gradcheck package is not imported here)
import needle_calls  # noqa: E402
import protocol  # noqa: E402


def describe(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != os.path.abspath(__file__)
              and not f.filename.startswith("<frozen")]  # Python's own import machinery is nowhere to look
    where = ""
    if frames:
        f = frames[-1]
        where = f" at {os.path.basename(f.filename)}:{f.lineno} in {f.name}" + (f": {f.line.strip()}" if f.line else "")
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): the submission called sys.exit(){where}"
    message, key = str(exc), exc.args[0] if isinstance(exc, KeyError) and len(exc.args) == 1 else None
    if key is not None and not isinstance(key, (str, int, float, tuple)):  # a needle Tensor used as a key
        shape = getattr(key, "shape", None)
        message = f"a {type(key).__name__}{f' of shape {tuple(shape)}' if shape is not None else ''}, a key the dict does not hold"
    if len(message) > 240:  # on one line and cut: a KeyError of a Tensor prints all its values
        message = " ".join(message.split())
        message = message if len(message) <= 240 else message[:239] + "…"
    return f"{type(exc).__name__}: {message}{where}"


def names_of(module):
    import inspect

    defined = {}
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(value) and value.__module__ == module.__name__:
            try:  # the constructor's keywords say which year of the handout it follows
                params = list(inspect.signature(value).parameters)
            except (TypeError, ValueError):
                params = []
            defined[name] = {"kind": "class", "params": params}
        elif callable(value) and getattr(value, "__module__", None) == module.__name__:
            try:
                params = list(inspect.signature(value).parameters)
            except (TypeError, ValueError):
                params = []
            doc = inspect.getdoc(value)
            # the docstring says what the student's year of the handout means (dropout's p, groupnorm's gamma)
            defined[name] = {"kind": "function", "params": params, "doc": doc[:4000] if isinstance(doc, str) else ""}
    return defined


def main() -> None:
    path, fd_in, fd_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    read = protocol.reader(fd_in)
    os.write(fd_out, b"R")  # Python and numpy are up: from here on, what goes wrong is the submission's doing
    handles = {}

    def keep(value):
        handles[len(handles) + 1] = value
        return len(handles)

    def lookup(handle, _type):
        if handle not in handles:
            raise protocol.ProtocolError(f"unknown handle {handle}")
        return handles[handle]

    try:
        module = importing.import_file(path, "submission", keep_on_path=True)
        # a module written with needle Tensors (hw1's apps/simple_ml.py) is run through needle_calls
        flavoured = needle_calls.flavoured(module) is not None
        protocol.send(fd_out, {"ok": True, "names": names_of(module), "needle": flavoured}, [])
    except BaseException as exc:  # import-time failures of any kind, sys.exit included
        protocol.send(fd_out, {"ok": False, "error": f"importing the submission raised {describe(exc)}"}, [])
        return
    while True:
        try:
            request, arrays = protocol.receive(read)
        except EOFError:
            return
        try:
            if request["op"] == "exit":
                return
            target = handles[request["handle"]] if request.get("handle") else module
            if request["op"] == "getattr":
                value = getattr(target, request["name"])
                blobs = []
                protocol.send(fd_out, {"ok": True, "result": protocol.encode(value, blobs, keep)}, blobs)
                continue
            if request["op"] == "setattr":  # a model's params, replaced by the grader's problem
                setattr(target, request["name"], protocol.decode(request["value"], arrays, lookup))
                protocol.send(fd_out, {"ok": True, "result": protocol.encode(None, [])}, [])
                continue
            args = [protocol.decode(a, arrays, lookup) for a in request["args"]]
            kwargs = {k: protocol.decode(v, arrays, lookup) for k, v in request["kwargs"].items()}
            held = None
            if request["op"] == "needle":  # a needle check's call into the package: its Tensors stay here
                if request["name"] not in needle_calls.CALLS:
                    raise protocol.ProtocolError(f"no needle call {request['name']!r}")
                result = getattr(needle_calls, request["name"])(module, *args, **kwargs)
                tensor = getattr(getattr(module, "autograd", None), "Tensor", None)
                held = (lambda v: isinstance(v, tensor)) if isinstance(tensor, type) else None
            else:
                result = getattr(target, request["name"])(*args, **kwargs)
            blobs = []
            encoded = protocol.encode(result, blobs, keep, held)
            # arrays and settings dicts the call may update in place (weights; bn_param's running statistics)
            after = [protocol.encode(a, blobs, keep) if hasattr(a, "shape") or isinstance(a, dict) else None for a in args]
            protocol.send(fd_out, {"ok": True, "result": encoded, "args_after": after}, blobs)
        except BaseException as exc:  # the submission's exceptions, KeyboardInterrupt and SystemExit included
            protocol.send(fd_out, {"ok": False, "error": describe(exc)}, [])


if __name__ == "__main__":
    main()

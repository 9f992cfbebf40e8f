# Runs the script named by sys.argv[1] as a notebook cell: like `python3 script.py`, and when
# its last statement is an expression (not ending in `;`), prints that value's repr unless it is
# None, as the interactive interpreter does. Tracebacks and syntax errors read as for the script.
def _vana_cell():
    import sys, _ast
    f = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = f.rpartition('/')[0] or '/'
    m = type(sys)('__main__')
    m.__file__ = f
    m.__builtins__ = __builtins__
    sys.modules['__main__'] = m
    last = None
    try:
        with open(f, 'rb') as h:
            src = h.read()
        tree = compile(src, f, 'exec', _ast.PyCF_ONLY_AST)
        body = tree.body
        if body and isinstance(body[-1], _ast.Expr) and not src.rstrip().endswith(b';'):
            last = compile(_ast.Interactive(body=[body.pop()]), f, 'single')
        code = compile(tree, f, 'exec')
    except (SyntaxError, ValueError) as e:
        sys.excepthook(type(e), e.with_traceback(None), None)
        sys.exit(1)
    try:
        exec(code, m.__dict__)
        if last is not None:
            exec(last, m.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        tb = e.__traceback__.tb_next
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        sys.exit(1)
_vana_cell()

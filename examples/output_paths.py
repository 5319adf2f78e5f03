"""Where the examples write their files (imported by the scripts beside it)."""

import os


def output_path(parser, path, default_name):
    """Where a file goes: ``path`` as given (a relative one in the current directory), or
    ``default_name`` in ``path`` when it names a directory. Checked before any work: a directory
    that does not exist is an error (as torch.save's "Parent directory ... does not exist."),
    never made. An empty ``path`` means no file and is returned as is.
    """
    if not path:
        return path
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        if not os.path.isdir(path):
            parser.error(f"--out {path}: directory {path} does not exist")
        path = os.path.join(path, default_name)
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        parser.error(f"--out {path}: parent directory {parent} does not exist")
    return path

"""Issue 21's size limits on the code's shape, measured so they cannot creep back: no file in
`rules/` over 400 lines, and no class over 200 lines anywhere in the project's own code."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Trees that are not the project's own Python (the environment, the widget's node modules).
_NOT_OURS = {".venv", "node_modules", ".git", "build", "dist"}
MAX_RULES_FILE_LINES = 400
MAX_CLASS_LINES = 200


def _sources() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if not _NOT_OURS.intersection(p.relative_to(ROOT).parts))


def test_no_file_in_rules_over_400_lines():
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "rules").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_RULES_FILE_LINES
    }
    assert too_long == {}


def test_no_class_over_200_lines():
    too_long = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                # From the first decorator (part of the class as a reader sees it) to its end.
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (n := node.end_lineno - start + 1) > MAX_CLASS_LINES:
                    too_long[f"{path.relative_to(ROOT)}:{node.name}"] = n
    assert too_long == {}


def test_the_layout_test_sees_the_project():
    # A measure that found no files would pass forever: the sources must include the rules and
    # the stores this test exists for.
    names = {str(p.relative_to(ROOT)) for p in _sources()}
    assert {"rules/state/__init__.py", "storage/sqlite.py", "matrix/client.py"} <= names

"""Which room may import which (docs/architecture.md, "Import directions"), read from the source with `ast`.

Nothing is imported here: every `import` and `from ... import` statement of every file is read, including those
inside functions, so a lazy import counts as much as one at the top. An import made with importlib from a string
is not seen. A failure names the file, the line and the statement, and the rule it breaks.

The directions: the core is the ground floor (content, settings, replies, routing; what the action server
loads); the NLU and the triage build on it; the Rasa extensions on those; the launcher on the extensions; the
tools on everything. Nothing imports upwards, and the action server's code imports the core alone.
tests/unit/test_encoder.py (`test_the_action_server_loads_no_nlp_stack`) checks the last at run time: the actions,
imported in a fresh interpreter, load no spaCy, TensorFlow, Rasa or NumPy.
"""

import ast
import dataclasses
import pathlib
from typing import Iterator, List, Sequence, Tuple

import pytest

PROJECT = pathlib.Path(__file__).resolve().parents[2]
ROOMS = ("core", "nlp", "triage", "rasa_ext", "launcher", "tools", "widget")
# bot/'s own files outside the rooms: the package, `python -m bot`, and the old paths that clinics' files name
# (one-line re-exports, tests/unit/test_old_class_paths.py).
OLD_PATHS = ("bot.tracker_store", "bot.lock_store", "bot.channels", "bot.conversations")
TOP_LEVEL = ("__init__.py", "__main__.py", *(f"{old.split('.')[1]}.py" for old in OLD_PATHS))
# What the action server must never load: Rasa's server (rasa_sdk is the action server's own), the NLU stack.
HEAVY = ("rasa", "spacy", "tensorflow", "numpy", "sklearn", "tokenizers", "sanic", "socketio")


@dataclasses.dataclass(frozen=True)
class Rule:
    where: str  # a folder or file, from the project root
    forbidden: Tuple[str, ...] = ()  # module prefixes it must not import
    only_bot: Tuple[str, ...] = ()  # when set: of bot's modules, only these prefixes
    why: str = ""
    exempt: Tuple[str, ...] = ()  # files under `where` the rule does not apply to

    def __str__(self) -> str:
        return self.where


RULES = (
    Rule(
        "bot/core",
        forbidden=("bot.nlp", "bot.triage", "bot.rasa_ext", "bot.launcher", "bot.tools", "bot.widget", "rasa_sdk", *HEAVY),
        why="the core is what the action server loads, and everything else builds on it, never the reverse",
    ),
    Rule("bot/nlp", forbidden=("bot.rasa_ext", "bot.launcher", "bot.tools"), why="the trained model's components need no server or tools"),
    Rule("bot/triage", forbidden=("bot.rasa_ext", "bot.launcher", "bot.tools"), why="the triage runs inside the NLU"),
    Rule("bot/rasa_ext", forbidden=("bot.launcher", "bot.tools"), why="the Rasa server's code is started by the launcher, not the reverse"),
    Rule("bot/launcher", forbidden=("bot.tools",), why="the tools use the launcher, not the reverse"),
    Rule("bot/widget", only_bot=("bot.core",), why="the demo page's server stands alone"),
    Rule("bot", forbidden=("bot.tools",), exempt=("bot/tools",), why="the tools are for people and CI; the assistant never imports them"),
    Rule("actions", only_bot=("bot.core",), forbidden=HEAVY, why="the action server loads the core alone: no Rasa server or NLU"),
    Rule("bot", forbidden=OLD_PATHS, why="the old paths are for clinics' files; the code names the new ones"),
    Rule("actions", forbidden=OLD_PATHS, why="the old paths are for clinics' files; the code names the new ones"),
    Rule("tests", forbidden=OLD_PATHS, why="the old paths are for clinics' files; the code names the new ones"),
)


def module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: pathlib.Path, root: pathlib.Path) -> Iterator[Tuple[ast.stmt, str]]:
    """(statement, module) for every module a file's imports name; `from m import n` names m.n (n may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield node, base if alias.name == "*" else f"{base}.{alias.name}"


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def python_files(root: pathlib.Path, where: str) -> List[pathlib.Path]:
    place = root / where
    return [place] if place.is_file() else sorted(p for p in place.rglob("*.py") if "__pycache__" not in p.parts)


def violations(rule: Rule, root: pathlib.Path = PROJECT) -> List[str]:
    found = []
    for path in python_files(root, rule.where):
        relative = path.relative_to(root).as_posix()
        if any(relative == e or relative.startswith(e + "/") for e in rule.exempt):
            continue
        for node, module in imported(path, root):
            bad = [prefix for prefix in rule.forbidden if under(module, prefix)]
            if rule.only_bot and under(module, "bot") and not any(under(module, ok) for ok in rule.only_bot):
                bad.append(f"anything of bot but {', '.join(rule.only_bot)}")
            if bad:
                statement = f"{relative}:{node.lineno}: `{ast.unparse(node)}` imports {module}"
                found.append(f"{statement} ({rule.where} must not import {bad[0]}: {rule.why})")
    return found


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_imports_go_the_allowed_way(rule):
    assert python_files(PROJECT, rule.where), f"{rule.where} holds no Python file: the rule checks nothing"
    found = violations(rule)
    assert not found, "\n".join(["imports against the allowed directions:", *found])


def test_every_python_file_of_bot_is_in_a_room():
    """A new module goes into the room of its role (docs/architecture.md), so the rules above see it."""
    bot = PROJECT / "bot"
    loose = [
        p.relative_to(PROJECT).as_posix()
        for p in python_files(PROJECT, "bot")
        if p.relative_to(bot).parts[0] not in ROOMS and p.relative_to(bot).as_posix() not in TOP_LEVEL
    ]
    assert not loose, f"in no room of bot/ ({', '.join(ROOMS)}): {loose}"


def write(root: pathlib.Path, files: Sequence[Tuple[str, str]]) -> None:
    for name, text in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_check_finds_what_it_must(tmp_path):
    """The rules can fail: a lazy import, a relative one, `from bot import tools` and an import of Rasa all count."""
    write(
        tmp_path,
        [
            ("bot/__init__.py", ""),
            ("bot/core/__init__.py", ""),
            ("bot/core/fine.py", "import yaml\nfrom bot.core import settings\nfrom . import routing\nimport rasa_sdk_like\n"),
            ("bot/core/lazy.py", "def f():\n    from bot.tools.report import main\n    return main\n"),
            ("bot/core/relative.py", "from ..rasa_ext import channels\n"),
            ("bot/core/framework.py", "import rasa.core.agent\nfrom bot import tools\n"),
            ("actions/actions.py", "from rasa_sdk import Action\nfrom bot.core.answers import Reply\nfrom bot.nlp import encoder\n"),
        ],
    )
    core = [v.split(" imports ")[0] for v in violations(RULES[0], tmp_path)]
    assert core == [
        "bot/core/framework.py:1: `import rasa.core.agent`",
        "bot/core/framework.py:2: `from bot import tools`",
        "bot/core/lazy.py:2: `from bot.tools.report import main`",
        "bot/core/relative.py:1: `from ..rasa_ext import channels`",
    ]
    actions = violations(next(r for r in RULES if r.where == "actions" and r.only_bot), tmp_path)
    assert len(actions) == 1 and actions[0].startswith("actions/actions.py:3: `from bot.nlp import encoder` imports bot.nlp.encoder")

"""Every Hydra command that README.md and docs/*.md show composes as written (compose only,
nothing runs), so an override in the docs cannot drift from the configs.

A command is a line of a code block (fenced or indented) or an inline code span that starts with
``deblurzoo-<name>`` (composing ``conf/<name>.yaml``, ``-`` read as ``_``) or
``python -m deblurzoo.<...>.<name>``; a deblurzoo command without such a config must be listed in
:data:`NOT_HYDRA`. Lines continued with ``\\`` are joined, ``#`` comments dropped and
placeholders (``<ckpt>``) replaced by a word; ``-m`` sweeps are expanded into their jobs, each
composed with its own overrides. Config files that a document shows whole (```yaml
file=conf/...``, docs/adding_a_model.md) are on the search path of that document's commands.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

from deblurzoo.utils.job import CONFIG_DIR

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The deblurzoo commands that are not Hydra apps (plain arguments, nothing to compose).
NOT_HYDRA = {"deblurzoo-convert", "python -m deblurzoo.ssim"}
#: Hydra's own flags that take no value and do not change what is composed.
PLAIN_FLAGS = {"--help", "-h", "--hydra-help", "--resolve", "--run", "-r"}
#: Hydra's flags followed by a value that does not change what is composed.
VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--info", "-i"}
MULTIRUN_FLAGS = {"--multirun", "-m"}
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
#: A config file a document shows whole: ```yaml file=conf/<path>.
CONFIG_FILE = re.compile(r"^```yaml file=conf/(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
#: A placeholder the reader replaces: ``<ckpt>``, ``<stage-1 .ckpt>``.
PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


@dataclass(frozen=True)
class DocCommand:
    """A command shown in a document: where, its text, its config and its overrides."""

    where: str
    text: str
    config_name: str
    overrides: tuple[str, ...]
    multirun: bool

    def jobs(self) -> list[list[str]]:
        """The override lists of the command's jobs: one, or one per sweep combination."""
        if not self.multirun:
            return [list(self.overrides)]
        parsed = OverridesParser.create().parse_overrides(list(self.overrides))
        choices = [
            [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
            if o.is_sweep_override()
            else [o.input_line]
            for o in parsed
        ]
        return [list(job) for job in itertools.product(*choices)]


def _entry_point(words: list[str]) -> tuple[str, str | None] | None:
    """``(command, config name)`` of a line's first words; the config name is ``None`` where
    no such config exists, and the result ``None`` for a line that runs no deblurzoo command."""
    if words[:1] and words[0].startswith("deblurzoo-"):
        command, name = words[0], words[0].removeprefix("deblurzoo-").replace("-", "_")
    elif words[:2] == ["python", "-m"] and words[2:3] and words[2].startswith("deblurzoo."):
        command, name = " ".join(words[:3]), words[2].rpartition(".")[2]
    else:
        return None
    return command, name if (Path(CONFIG_DIR) / f"{name}.yaml").is_file() else None


def _code_snippets(text: str) -> list[tuple[int, str]]:
    """``(line number, text)`` of every code line (fenced or indented by four spaces, with its
    ``\\`` continuation lines joined) and of every inline code span of more than one word
    outside code blocks."""
    snippets, prose, fenced, pending = [], [], False, None
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        if pending is not None:  # a continued code line
            pending[1] += " " + line.strip().removesuffix("\\")
            if not line.rstrip().endswith("\\"):
                snippets.append(tuple(pending))
                pending = None
            prose.append("")
        elif fenced or line.startswith("    "):
            entry = [number, line.strip().removesuffix("\\")]
            if line.rstrip().endswith("\\"):
                pending = entry
            else:
                snippets.append(tuple(entry))
            prose.append("")
        else:
            prose.append(line)
    joined = "\n".join(prose)
    for span in INLINE.finditer(joined):
        words = span.group(2).split()
        if len(words) > 1:  # a command name alone is a mention, not a command
            snippets.append((joined.count("\n", 0, span.start()) + 1, " ".join(words)))
    return snippets


def _parse(where: str, snippet: str, search: tuple[str, ...] = ()) -> DocCommand | None:
    """The command of ``snippet`` (with the ``search`` overrides first) if it runs a Hydra
    command, else ``None``."""
    found = _entry_point(snippet.split()[:3])
    if found is None:
        return None
    command, config_name = found
    if config_name is None:
        assert command in NOT_HYDRA, f"{where}: {command} has no config; is it a Hydra command?"
        return None
    words = shlex.split(PLACEHOLDER.sub("PLACEHOLDER", snippet), comments=True)
    overrides, multirun, args = [*search], False, iter(words[len(command.split()) :])
    for word in args:
        if word in MULTIRUN_FLAGS:
            multirun = True
        elif word in VALUE_FLAGS:
            next(args, None)
        elif word == "...":  # the docs' "and so on"
            continue
        elif word.startswith("-") and word not in PLAIN_FLAGS:
            raise ValueError(f"{where}: unknown Hydra flag {word!r} in {snippet!r}")
        elif word not in PLAIN_FLAGS:
            overrides.append(word)
    return DocCommand(where, snippet, config_name, tuple(overrides), multirun)


def doc_commands(config_root: Path) -> list[DocCommand]:
    """Every Hydra command that README.md and docs/*.md show, in document order. The config
    files a document shows are written under ``config_root`` and its commands search them."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        search = ()
        for name, content in CONFIG_FILE.findall(text):
            path = config_root / doc.stem / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            search = (f"hydra.searchpath=[file://{config_root / doc.stem}]",)
        for number, snippet in _code_snippets(text):
            command = _parse(f"{doc.relative_to(ROOT)}:{number}", snippet, search)
            if command is not None:
                found.append(command)
    return found


def test_every_documented_command_composes(tmp_path: Path) -> None:
    commands = doc_commands(tmp_path)
    assert commands, f"no Hydra command found in {', '.join(d.name for d in DOCS)}"
    failures, checked = [], []
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        for command in commands:
            checked.append(f"{command.where}: {command.text}")
            for job in command.jobs():
                try:
                    compose(command.config_name, overrides=job, return_hydra_config=True)
                except Exception as err:  # noqa: BLE001 - every failure is reported, with its line
                    failures.append(f"{command.where}: {command.config_name} {job}: {err}")
    listing = "\n".join(checked)
    assert not failures, (
        "documented commands that do not compose:\n" + "\n".join(failures)
        + f"\n\n{len(checked)} commands checked:\n{listing}"
    )  # fmt: skip


def test_the_scanner_finds_commands_in_every_form() -> None:
    text = (
        "Run `deblurzoo-train data=dvd\ndata.root=/d` or `deblurzoo-infer` alone:\n\n"
        "```bash\ndeblurzoo-eval ckpt_path=<a ckpt> \\\n    eval=estrnn   # a comment\n```\n\n"
        "    python -m deblurzoo.train -m seed=0,1 debug=fdr\n"
        "    deblurzoo-blur-transfer --help\n"
        "    deblurzoo-convert a.pth b.safetensors\n"
    )
    commands = [_parse("t", snippet) for _, snippet in _code_snippets(text)]
    found = [(c.config_name, c.jobs()) for c in commands if c is not None]
    assert sorted(found) == [
        ("blur_transfer", [[]]),
        ("eval", [["ckpt_path=PLACEHOLDER", "eval=estrnn"]]),
        ("train", [["data=dvd", "data.root=/d"]]),
        ("train", [["seed=0", "debug=fdr"], ["seed=1", "debug=fdr"]]),
    ]

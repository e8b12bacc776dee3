"""Properties of the whole language pipeline, checked on generated input:

(a) no input makes `load_sources` raise anything but `InvalidOrchfile`, and every
    diagnostic it carries names the file it is about;
(b) a valid stack rendered as YAML and read back renders the very same JSON;
(c) an ENV value never shows in a repr of the document nor in any error message.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from reconciler.errors import Diagnostic, InvalidOrchfile
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.render import to_json
from reconciler.orchfile.yaml_form import to_yaml

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Each example of these parses, renders and reads YAML back: fewer of them keep it quick.
SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)

DIRECTIVES = [
    "ARG", "ORCH_VERSION", "SERVICE", "FROM", "RUN", "ENTRYPOINT", "CMD", "PUBLISH", "VOLUME",
    "USER", "STOP", "RELOAD", "WORKDIR", "ENV", "ENV_FILE", "REQUIRES", "AFTER", "HEALTHCHECK",
    "READINESS_TIMEOUT", "ONESHOT", "DISABLED", "RECREATE", "RESTART", "RESTART_DELAY",
    "START_LIMIT_BURST", "START_LIMIT_INTERVAL", "TIMEOUT_START", "TIMEOUT_STOP", "MEMORY",
    "CPUS", "CPU_QUOTA", "LIMIT_NOFILE", "LIMIT_NPROC", "TASKS_MAX", "IO_WEIGHT", "STDOUT",
    "STDERR", "CLEAR",
]  # fmt: skip

VALID = """\
ORCH_VERSION 1.0.0-rc
ARG tag=1.27
ARG port=8080
SERVICE db
FROM postgres:16
VOLUME pgdata:/var/lib/postgresql/data
ENV POSTGRES_PASSWORD=pw
SERVICE web
FROM nginx:${tag}
PUBLISH 127.0.0.1:${port}:80
REQUIRES db
AFTER cache
ENV_FILE ./web.env
RESTART on-failure
START_LIMIT_BURST 3
CPUS 1.5
IO_WEIGHT 500
CLEAR ENV
ENV A=1
SERVICE job
RUN ./job.sh
USER app
ONESHOT true
REQUIRES db web
"""


def _diagnostics_of(sources: list[SourceFile]) -> tuple[Diagnostic, ...]:
    """The diagnostics loading `sources` raises (none when they are valid); any other
    exception escapes and fails the test."""
    try:
        load_sources(sources, {}, {})
    except InvalidOrchfile as invalid:
        return invalid.diagnostics or (Diagnostic(location=None, message="no diagnostics"),)
    return ()


def _error_text(sources: list[SourceFile]) -> str:
    """Everything an error about `sources` could show: its str, repr and messages."""
    try:
        load_sources(sources, {}, {})
    except InvalidOrchfile as invalid:
        return "\n".join([str(invalid), repr(invalid), *(d.message for d in invalid.diagnostics)])
    return ""


def _assert_only_invalid_orchfile(sources: list[SourceFile]) -> None:
    names = {source.name for source in sources}
    for diagnostic in _diagnostics_of(sources):
        assert diagnostic.location is not None, diagnostic
        assert diagnostic.location.file in names, diagnostic


# --- (a) robustness -------------------------------------------------------------------

any_line = st.text(st.characters(blacklist_characters="\n"), max_size=40)
directive_line = st.builds(
    lambda indent, directive, sep, value: f"{indent}{directive}{sep}{value}",
    st.sampled_from(["", " ", "\t"]),
    st.sampled_from(DIRECTIVES),
    st.sampled_from(["", " ", "\t", "\u3000", "\x1f"]),
    st.one_of(
        any_line,
        st.sampled_from(["web", "a=b", "true", "80:80", "x:/y", "${tag}", "ENV", "1.0.0-rc"]),
    ),
)
orchish_text = st.lists(st.one_of(directive_line, any_line), max_size=25).map("\n".join)


@FAST
@given(st.text())
def test_arbitrary_text_fails_only_as_an_invalid_orchfile(text):
    _assert_only_invalid_orchfile([SourceFile(name="Orchfile", text=text)])


@FAST
@given(orchish_text)
def test_arbitrary_directive_lines_fail_only_as_an_invalid_orchfile(text):
    _assert_only_invalid_orchfile([SourceFile(name="Orchfile", text=text)])


@FAST
@given(orchish_text, orchish_text)
def test_an_arbitrary_overlay_fails_only_as_an_invalid_orchfile(base, overlay):
    sources = [SourceFile(name="Orchfile", text=base), SourceFile(name="dev.orch", text=overlay)]
    _assert_only_invalid_orchfile(sources)


@FAST
@given(st.sampled_from(["services:\n", "---\n", "version: 1.0.0-rc\nservices:\n"]), st.text())
def test_arbitrary_yaml_fails_only_as_an_invalid_orchfile(head, body):
    _assert_only_invalid_orchfile([SourceFile(name="stack.yaml", text=head + body)])


@st.composite
def mutated_valid_orchfile(draw):
    lines = VALID.splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        match draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"])):
            case "delete":
                del lines[i]
            case "duplicate":
                lines.insert(draw(st.integers(0, len(lines))), lines[i])
            case "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            case "insert":
                at = draw(st.integers(0, len(lines[i])))
                noise = draw(st.binary(min_size=1, max_size=8)).decode("utf-8", "replace")
                lines[i] = lines[i][:at] + noise + lines[i][at:]
            case "replace":
                lines[i] = draw(any_line)
    return "\n".join(lines) + "\n"


@FAST
@given(mutated_valid_orchfile())
def test_a_mutated_valid_orchfile_fails_only_as_an_invalid_orchfile(text):
    _assert_only_invalid_orchfile([SourceFile(name="Orchfile", text=text)])


@FAST
@given(mutated_valid_orchfile())
def test_a_mutated_overlay_fails_only_as_an_invalid_orchfile_naming_a_file(text):
    sources = [SourceFile(name="Orchfile", text=VALID), SourceFile(name="dev.orch", text=text)]
    _assert_only_invalid_orchfile(sources)


# --- (b) valid stacks round-trip through YAML -----------------------------------------

ARG_NAMES = ("tag", "port")
value_char = st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r")
piece = st.one_of(
    st.text(value_char, min_size=1, max_size=12),
    st.sampled_from(["${tag}", "${port}", "${ORCH_PROJECT}", "$tag", "${", "}", ":", "#", "="]),
)
text_value = st.lists(piece, min_size=1, max_size=4).map(lambda p: "".join(p).strip()).filter(bool)
word = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)


def number(low, high):
    return st.builds(
        lambda n, style: {"plain": str(n), "plus": f"+{n}", "zeros": f"00{n}"}[style],
        st.integers(low, high),
        st.sampled_from(["plain", "plus", "zeros"]),
    )


cpus = st.one_of(
    st.floats().map(repr),
    st.sampled_from(["2", ".5", "1.", "1e3", "1E-7", "inf", "-inf", "NaN", "+0.25"]),
)
env_key = (
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="=\n\r"), min_size=1)
    .map(str.lstrip)
    .filter(bool)
)
port = number(0, 65535)
publish = st.builds(
    lambda address, host, container: f"{address}{host}:{container}",
    st.one_of(
        st.just(""),
        st.sampled_from(["127.0.0.1:", "::1:", "[::]:", "0.0.0.0:"]),
        text_value.map(lambda a: a + ":"),
    ),
    port,
    port,
)
volume = st.builds(
    lambda source, destination: f"{source}:{destination}".strip(),
    st.text(value_char.filter(lambda c: c != ":"), max_size=10).map(str.lstrip),
    st.one_of(text_value, st.just("/data:ro")),
).filter(lambda v: ":" in v)

COMMON_STRINGS = (
    "WORKDIR", "HEALTHCHECK", "READINESS_TIMEOUT", "RESTART_DELAY", "START_LIMIT_INTERVAL",
    "TIMEOUT_START", "TIMEOUT_STOP", "MEMORY", "CPU_QUOTA", "STDOUT", "STDERR",
)  # fmt: skip


@st.composite
def service_lines(draw, name, earlier):
    mode = draw(st.sampled_from(["container", "host"]))
    lines = [f"SERVICE {name}"]
    if mode == "container":
        lines.append(f"FROM {draw(text_value)}")
        for directive in ("ENTRYPOINT", "CMD"):
            if draw(st.booleans()):
                lines.append(f"{directive} {draw(text_value)}")
        lines += [f"PUBLISH {p}" for p in draw(st.lists(publish, max_size=3))]
        lines += [f"VOLUME {v}" for v in draw(st.lists(volume, max_size=3))]
    else:
        lines.append(f"RUN {draw(text_value)}")
        for directive in ("USER", "STOP", "RELOAD"):
            if draw(st.booleans()):
                lines.append(f"{directive} {draw(text_value)}")
    for directive in draw(st.lists(st.sampled_from(COMMON_STRINGS), max_size=6, unique=True)):
        lines.append(f"{directive} {draw(text_value)}")
    lines += [
        f"ENV {draw(env_key)}={draw(text_value | st.just(''))}"
        for _ in range(draw(st.integers(0, 3)))
    ]
    lines += [f"ENV_FILE {v}" for v in draw(st.lists(text_value, max_size=2))]
    if earlier:
        requires = draw(st.lists(st.sampled_from(earlier), max_size=3))
        if requires:
            lines.append("REQUIRES " + " ".join(requires))
    targets = word.map(lambda w: "ext-" + w)
    after = draw(st.lists(st.sampled_from(earlier) | targets if earlier else targets, max_size=3))
    if after:
        lines.append("AFTER " + " ".join(after))
    typed = {
        "ONESHOT": st.sampled_from(["true", "false"]),
        "DISABLED": st.sampled_from(["true", "false"]),
        "RECREATE": st.sampled_from(["always", "never"]),
        "RESTART": st.sampled_from(["no", "always", "on-failure"]),
        "START_LIMIT_BURST": number(0, 2**32 - 1),
        "LIMIT_NOFILE": number(0, 2**64 - 1),
        "LIMIT_NPROC": number(0, 2**64 - 1),
        "TASKS_MAX": number(0, 2**64 - 1),
        "IO_WEIGHT": number(10, 1000),
        "CPUS": cpus,
    }
    for directive in draw(st.lists(st.sampled_from(sorted(typed)), max_size=5, unique=True)):
        lines.append(f"{directive} {draw(typed[directive])}")
    return lines


@st.composite
def valid_stack(draw):
    lines = []
    for arg in draw(st.lists(st.sampled_from(ARG_NAMES), unique=True)):
        default = draw(st.lists(piece, max_size=3).map(lambda p: "".join(p).rstrip()))
        lines.append(f"ARG {arg}={default}")
    names = draw(st.lists(word, min_size=1, max_size=3, unique=True))
    for index, name in enumerate(names):
        lines += draw(service_lines(name, names[:index]))
    return "\n".join(lines) + "\n"


@SLOW
@given(valid_stack())
def test_a_valid_stack_rendered_as_yaml_reads_back_to_the_same_json(text):
    document = load_sources([SourceFile(name="Orchfile", text=text)], {}, {})
    yaml_text = to_yaml(document)
    again = load_sources([SourceFile(name="Orchfile", text=yaml_text)], {}, {})
    assert to_json(again) == to_json(document)


# --- (c) secrets ----------------------------------------------------------------------

secret = st.from_regex(r"[A-Za-z0-9+/]{10,20}", fullmatch=True).map(lambda s: f"SECRET<{s}>")
breakage = st.sampled_from(
    [
        "ONESHOT maybe",
        "EXPOSE 80",
        "USER root",
        "CMD x",
        "PUBLISH 99999:80",
        "REQUIRES ghost",
        "ENV BROKEN",
        "CLEAR FROM",
        "FROM second",
        "CPUS lots",
    ]
)


def _plant(stack, value):
    lines = stack.split("\n")
    first_service = next(i for i, line in enumerate(lines) if line.startswith("SERVICE "))
    lines.insert(first_service + 1, f"ENV PLANTED={value}")
    return lines


@SLOW
@given(valid_stack(), secret)
def test_an_env_value_never_shows_in_a_repr_of_the_document(stack, value):
    assume(value not in stack)
    document = load_sources(
        [SourceFile(name="Orchfile", text="\n".join(_plant(stack, value)))], {}, {}
    )
    assert value not in repr(document)
    assert value not in str(document)
    assert all(value not in repr(service) for service in document.services)


@SLOW
@given(valid_stack(), secret, breakage, st.data())
def test_an_env_value_never_shows_in_an_error_message(stack, value, broken, data):
    assume(value not in stack)
    lines = _plant(stack, value)
    lines.insert(data.draw(st.integers(1, len(lines))), broken)
    assert value not in _error_text([SourceFile(name="Orchfile", text="\n".join(lines))])


@settings(SLOW, max_examples=20)
@given(
    valid_stack(),
    secret,
    st.sampled_from(["    bogus: 1", "    oneshot: maybe", "  - !!x", "\t"]),
    st.data(),
)
def test_an_env_value_never_shows_in_an_error_about_a_yaml_file(stack, value, broken, data):
    assume(value not in stack)
    document = load_sources(
        [SourceFile(name="Orchfile", text="\n".join(_plant(stack, value)))], {}, {}
    )
    lines = to_yaml(document).split("\n")
    lines.insert(data.draw(st.integers(3, len(lines))), broken)
    assert value not in _error_text([SourceFile(name="stack.yaml", text="\n".join(lines))])

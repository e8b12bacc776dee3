"""ENV and ENV_FILE → Secrets, referenced by name (`valueFrom`) and whole (`envFrom`)."""

from __future__ import annotations

from reconciler.export import kube
from reconciler.export.env import environment
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.model.secret import Secret
from tests.unit.export.mapping import LABELLING, only, service


def _env(svc, files=()):
    findings = Findings()
    return environment(svc, files, LABELLING, findings), findings


def test_a_service_without_env_gets_no_secret_and_no_variables():
    env, findings = _env(service("web"))
    assert (env.secrets, env.env_from, env.env) == ((), (), ())
    assert not findings.all()


def test_env_becomes_one_secret_holding_every_value():
    env, _ = _env(service("web", env={"A": "alpha", "B": "beta"}))
    (secret,) = env.secrets
    assert secret.metadata.name == "web-env"
    assert {k: v.reveal() for k, v in secret.data.items()} == {"A": "alpha", "B": "beta"}


def test_each_env_variable_is_read_from_the_secret_by_name_never_as_a_value():
    env, _ = _env(service("web", env={"A": "alpha"}))
    ref = kube.SecretKeySelector(name="web-env", key="A")
    assert env.env == (kube.EnvVar(name="A", value_from=kube.EnvVarSource(secret_key_ref=ref)),)


def test_each_env_file_is_a_secret_taken_whole_in_order():
    files = ({"A": Secret("1")}, {"B": Secret("2")})
    env, _ = _env(service("web"), files)
    assert [s.metadata.name for s in env.secrets] == ["web-env-file-1", "web-env-file-2"]
    assert [s.secret_ref.name for s in env.env_from] == ["web-env-file-1", "web-env-file-2"]


def test_env_wins_over_env_files_as_env_entries_win_over_env_from():
    env, _ = _env(service("web", env={"A": "from-env"}), ({"A": Secret("from-file")},))
    assert [e.secret_ref.name for e in env.env_from] == ["web-env-file-1"]
    assert [v.name for v in env.env] == ["A"]


def test_an_empty_env_file_makes_no_secret():
    env, _ = _env(service("web"), ({},))
    assert env.secrets == ()
    assert env.env_from == ()


def test_a_name_a_secret_key_cannot_hold_is_stored_under_a_derived_key():
    env, findings = _env(service("web", env={"weird key": "x"}))
    (variable,) = env.env
    key = variable.value_from.secret_key_ref.key
    assert variable.name == "weird key"
    assert key.startswith("weird-key-")
    assert list(env.secrets[0].data) == [key]
    assert not findings.all()


def test_a_dotted_name_is_kept_as_the_key():
    env, _ = _env(service("web", env={"my.setting": "x"}))
    assert env.env[0].value_from.secret_key_ref.key == "my.setting"


def test_a_name_outside_printable_ascii_is_an_error_naming_the_name_not_the_value():
    env, findings = _env(service("web", env={"OK": "fine", "clé": "valeur-secrète"}))
    finding = only(findings)
    assert (finding.severity, finding.directive, finding.index) == (
        Severity.ERROR,
        Directive.ENV,
        1,
    )
    assert "clé" in finding.message
    assert "valeur" not in finding.message
    assert [v.name for v in env.env] == ["OK"]

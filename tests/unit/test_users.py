"""An image's User resolved to numeric ids from the image's own passwd and group files."""

from __future__ import annotations

import pytest

from reconciler.drivers.containerd.users import ROOT, ProcessUser, resolve_user
from reconciler.errors import ImageError

IMAGE = "localhost:5000/web:1"
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
loner:x:2000:2000::/home/loner:/bin/sh
"""
GROUP = """\
root:x:0:
wheel:x:10:root,app
staff:x:50:app,other
app:x:1000:
loner:x:2000:
"""


def resolve(spec: str, passwd: str | None = PASSWD, group: str | None = GROUP) -> ProcessUser:
    return resolve_user(spec, passwd, group, IMAGE)


def test_no_user_is_root() -> None:
    user = resolve("")

    assert (user.uid, user.gid) == (0, 0)
    assert user == ROOT


def test_a_numeric_uid_in_passwd_takes_its_primary_group_from_passwd() -> None:
    user = resolve("1000")

    assert (user.uid, user.gid) == (1000, 1000)


def test_a_numeric_uid_missing_from_passwd_runs_with_group_zero() -> None:
    user = resolve("4242")

    assert (user.uid, user.gid) == (4242, 0)


def test_a_numeric_uid_works_in_an_image_without_passwd_or_group() -> None:
    user = resolve("1000", passwd=None, group=None)

    assert (user.uid, user.gid) == (1000, 0)


def test_numeric_uid_and_gid_are_used_directly() -> None:
    user = resolve("1000:50", passwd=None, group=None)

    assert (user.uid, user.gid) == (1000, 50)


def test_an_explicit_numeric_group_overrides_the_primary_group_from_passwd() -> None:
    user = resolve("1000:50")

    assert (user.uid, user.gid) == (1000, 50)


def test_a_user_name_is_looked_up_in_passwd() -> None:
    user = resolve("app")

    assert (user.uid, user.gid) == (1000, 1000)


def test_a_user_and_group_name_are_both_looked_up() -> None:
    user = resolve("app:staff")

    assert (user.uid, user.gid) == (1000, 50)


def test_a_numeric_uid_with_a_group_name_looks_up_the_group() -> None:
    user = resolve("2000:wheel")

    assert (user.uid, user.gid) == (2000, 10)


def test_a_user_name_with_a_numeric_gid_uses_the_gid_as_given() -> None:
    user = resolve("app:77")

    assert (user.uid, user.gid) == (1000, 77)


def test_supplementary_groups_are_the_groups_listing_the_user() -> None:
    user = resolve("app")

    assert set(user.additional_gids) == {1000, 10, 50}


def test_supplementary_groups_are_found_for_a_numeric_uid_named_in_passwd() -> None:
    user = resolve("1000")

    assert set(user.additional_gids) == {1000, 10, 50}


def test_the_additional_gids_include_the_primary_group_once() -> None:
    user = resolve("app:staff")

    assert user.additional_gids.count(50) == 1
    assert set(user.additional_gids) == {50, 10}


def test_a_user_in_no_other_group_has_only_its_primary_group() -> None:
    assert resolve("loner").additional_gids == (2000,)


def test_malformed_passwd_and_group_lines_are_skipped() -> None:
    passwd = "# comment\n\ngarbage\nbad:x:notanumber:1::/:/bin/sh\n" + PASSWD
    group = "junk\nbad:x:nan:app\n" + GROUP

    user = resolve("app:staff", passwd=passwd, group=group)

    assert (user.uid, user.gid) == (1000, 50)


@pytest.mark.parametrize(("spec", "passwd"), [("nobody", PASSWD), ("app", None), ("app", "")])
def test_an_unknown_user_name_is_an_image_error_naming_image_and_user(
    spec: str, passwd: str | None
) -> None:
    with pytest.raises(ImageError, match=rf"web:1.*'{spec}'"):
        resolve(spec, passwd=passwd)


@pytest.mark.parametrize(("spec", "group"), [("app:nogroup", GROUP), ("1000:staff", None)])
def test_an_unknown_group_name_is_an_image_error_naming_image_and_group(
    spec: str, group: str | None
) -> None:
    name = spec.partition(":")[2]

    with pytest.raises(ImageError, match=rf"web:1.*'{name}'"):
        resolve(spec, group=group)

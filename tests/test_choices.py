"""Option choices shared by several commands."""

from __future__ import annotations

import pytest

from smallest_cli.choices import redactions
from smallest_cli.errors import UsageError


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((), (False, False)),
        (("pii",), (True, False)),
        (("PCI",), (False, True)),
        (("pii,pci",), (True, True)),
        (("pii", "pci"), (True, True)),
    ],
)
def test_redactions(values: tuple[str, ...], expected: tuple[bool, bool]) -> None:
    assert redactions(values) == expected


@pytest.mark.parametrize("values", [("ssn",), ("pii,card",), (",",)])
def test_bad_redactions_name_the_choices(values: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as caught:
        redactions(values)
    assert caught.value.hint == "give pii, pci, or pii,pci"

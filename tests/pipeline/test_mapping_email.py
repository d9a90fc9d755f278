"""The fast e-mail check gives email-validator's verdict and normalization, address by address."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zoom_brevo.pipeline.mapping import (
    MappedContact,
    PersonFacts,
    Skipped,
    SkipReason,
    map_person,
    validated_email,
)

LOCAL_CHARS = "abcxyz019.!#$%&'*+/=?^_`{|}~-\" (),:;<>[]\\é"
DOMAINS = [
    "example.com", "sub.example.org", "xn--bcher-kva.example", "bücher.example", "localhost",
    "example.test", "-bad.example", "bad-.example", "a..b.example", "[1.2.3.4]", "b",
    "x" * 64 + ".example", ("y" * 62 + ".") * 4 + "com", "exa_mple.com", "EXAMPLE.NET",
]  # fmt: skip


def reference(text: str) -> tuple[str, str, str] | None:
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.normalized, valid.domain, valid.ascii_domain


@settings(max_examples=400, deadline=None)
@given(
    local=st.text(alphabet=LOCAL_CHARS, min_size=0, max_size=70),
    domain=st.sampled_from(DOMAINS) | st.text(alphabet="abc-.é1_", min_size=0, max_size=12),
)
@example(local="a" * 64, domain="example.com")
@example(local="a" * 65, domain="example.com")
@example(local="a" * 64, domain=("y" * 62 + ".") * 3 + "com")
@example(local="first.last", domain="xn--bcher-kva.example")
@example(local=".a", domain="example.com")
@example(local="a..b", domain="example.com")
def test_the_fast_check_agrees_with_email_validator(local: str, domain: str) -> None:
    text = f"{local}@{domain}".lower()
    assert validated_email(text) == reference(text)


def test_addresses_without_an_at_sign_or_with_two_agree_too() -> None:
    for text in ("plain", "a@b@example.com", "@example.com", "a@", ""):
        assert validated_email(text) == reference(text)


def test_map_person_still_normalizes_and_skips_as_before() -> None:
    ok = map_person(PersonFacts(email="  Ann.Lee@XN--BCHER-KVA.example "))
    assert isinstance(ok, MappedContact)
    assert ok.email == "ann.lee@bücher.example"
    bad = map_person(PersonFacts(email="ann@example.test"))
    assert isinstance(bad, Skipped)
    assert bad.reason is SkipReason.INVALID_EMAIL
    excluded = map_person(
        PersonFacts(email="ann@bücher.example"), exclude_domains=["xn--bcher-kva.example"]
    )
    assert isinstance(excluded, Skipped)
    assert excluded.reason is SkipReason.EXCLUDED_DOMAIN

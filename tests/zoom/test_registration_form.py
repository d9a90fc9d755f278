"""A registration form's answers: Zoom's standard fields and the host's own questions."""

from __future__ import annotations

from zoom_brevo.zoom.registration_form import answers_of, question_key


def test_filled_fields_and_questions_are_kept_by_key_blank_ones_dropped() -> None:
    fields = {"org": " Acme  Corp ", "job_title": "", "country": "NL", "phone": None}
    questions = [("What would you like to learn?", "Automation"), ("Anything else?", "  ")]
    assert answers_of(fields, questions) == {
        "org": "Acme Corp",
        "country": "NL",
        "question:What would you like to learn?": "Automation",
    }


def test_a_source_without_answers_gives_none_so_known_answers_are_kept() -> None:
    # registration_approved carries no form fields: None, which the store's merge keeps.
    assert answers_of({"email": "ann@example.com", "org": ""}, []) is None


def test_fields_zoom_does_not_define_are_not_answers() -> None:
    assert answers_of({"email": "ann@example.com", "first_name": "Ann"}, []) is None


def test_a_question_title_is_keyed_with_its_whitespace_folded() -> None:
    assert question_key("  What  would you\nlike? ") == "question:What would you like?"

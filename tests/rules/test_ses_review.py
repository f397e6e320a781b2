"""The production-access reviewer judges answers, not words: clear requests in any style are
granted, evasive ones (keywords, promises, copied questions) are denied with the missing answers.

AWS's reviewers want to know how a sender will "only send to recipients who have specifically
requested your mail" and how it handles bounces, complaints and unsubscribe requests
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html)."""

from __future__ import annotations

import pytest
from course.rules.ses_review import MARKETING_CONSENT, NO_DESCRIPTION, QUESTIONS, answers_of, review

ALL = tuple(q.key for q in QUESTIONS)


def _review(text: str, mail_type: str = "TRANSACTIONAL") -> tuple[bool, tuple[str, ...]]:
    outcome = review(
        {
            "UseCaseDescription": text,
            "MailType": mail_type,
            "WebsiteURL": "https://shop.example",
            "ProductionAccessEnabled": True,
        }
    )
    return outcome.granted, tuple(q.key for q in outcome.missing)


CORRECT = {
    "issue-unlabelled": (
        "TRANSACTIONAL",
        "Our list is built from people who create an account in our shop and tick a box asking "
        "for email. We only send order and shipping emails. Each email footer has a one-click "
        "link to stop these emails, applied immediately. Hard bounces and spam reports arrive "
        "through SNS and the address is removed from the list.",
    ),
    "terse": (
        "TRANSACTIONAL",
        "Users sign up on our site. We send receipts and password resets. Each mail has an "
        "unsubscribe link. Bounces and complaints come via SNS; we delete the address.",
    ),
    "verbose": (
        "MARKETING",
        "Thank you for reviewing our request. We are a small bakery in Lyon, and everyone on our "
        "mailing list has subscribed through the form on our website, after which we send them "
        "a confirmation email they must click before we add them to the list. Once a month we "
        "send a newsletter with our seasonal recipes and the occasional promotion for our "
        "shop. At the bottom of every newsletter there is a link that lets the reader "
        "unsubscribe in one click, and we also set the List-Unsubscribe header so that mail "
        "clients show their own button; either way the request is honoured at once. We have "
        "configured an SES configuration set that publishes bounce and complaint events to an "
        "SNS topic, and a small function subscribed to it removes any address that hard "
        "bounces or complains, so we never write to it again.",
    ),
    "bullets": (
        "TRANSACTIONAL",
        "- Customers give us their address when they place an order in our shop\n"
        "- We send order confirmations, invoices and delivery updates\n"
        "- The footer of each email links to a page where they can turn them off\n"
        "- Bounced or complained-about addresses are suppressed through SES notifications",
    ),
    "labelled": (
        "MARKETING",
        "List: people who opt in with a checkbox at checkout.\n"
        "Content: a weekly newsletter with our offers.\n"
        "Opt-out: an unsubscribe link in every message, applied within a minute.\n"
        "Bounces and complaints: SNS tells us about each one and we remove the address.",
    ),
    "transactional-only": (
        "TRANSACTIONAL",
        "We are a booking system for a dentist's practice: the recipients are our own patients, "
        "who register an account to book appointments. We send only appointment reminders and "
        "booking confirmations, never marketing. Patients can switch them off in their account "
        "settings. When a message bounces or a patient reports it as spam, our SNS handler "
        "stops sending to that address.",
    ),
    "double-opt-in-marketing": (
        "MARKETING",
        "Subscribers join through a double opt-in form: they confirm their email address from a "
        "link before they get anything. We send promotional emails and product announcements. "
        "Every email carries a List-Unsubscribe header and an unsubscribe link. We keep the SES "
        "account-level suppression list on for bounces and complaints, and we remove those "
        "addresses from our database.",
    ),
    "british": (
        "MARKETING",
        "Our members opt in when they enrol at the club and tick a box to hear from us. We send "
        "a fortnightly newsletter and details of special offers. Members can unsubscribe from "
        "the preference centre linked in every email, which we honour straight away. "
        "Complaints and bounces are recognised through SNS and the address is removed from our "
        "list.",
    ),
    "passive": (
        "TRANSACTIONAL",
        "Addresses are collected only when an account is created by the customer and confirmed "
        "by email. Receipts and password reset messages are sent. Unsubscribe requests are "
        "processed automatically from a link in the footer. Bounce and complaint notifications "
        "are received via SNS, and affected addresses are removed from the mailing list.",
    ),
    "numbered": (
        "TRANSACTIONAL",
        "1) Recipients are customers who registered on our platform. "
        "2) We send account notifications and monthly statements. "
        "3) They may opt out of non-essential mail from their account settings page. "
        "4) A hard bounce or complaint marks the address as inactive, and we stop sending to it.",
    ),
    "questions-with-answers": (
        "TRANSACTIONAL",
        "How do you build your list? People who create an account and confirm their email. "
        "What do you send? Order receipts and shipping notifications. "
        "How do people opt out? With the unsubscribe link in each email footer. "
        "Bounces and complaints? SES sends them to SNS and we remove the address.",
    ),
}

EVASIVE = {
    "keywords": "bounce complain unsubscribe signup marketing",
    "keywords-with-commas": "signup, double opt-in, receipts, newsletter, unsubscribe link, "
    "bounces, complaints, SNS, suppression list",
    "best-practices": "We follow all email best practices and only send high quality email.",
    "laws": "We comply with all laws, including CAN-SPAM and GDPR, and respect our users.",
    "copied-questions": "How do you build your list? What mail do you send? How can recipients "
    "opt out? How do you handle bounces and complaints?",
    "copied-notes": "1. where your recipients come from\n2. what mail you send\n"
    "3. how people unsubscribe\n4. how you handle bounces and complaints",
    "empty": "",
    "one-word": "Newsletter",
    "promises": "Our recipients want our emails. We send great content. Unsubscribing is "
    "easy. We handle bounces and complaints properly.",
}


@pytest.mark.parametrize(("mail_type", "text"), CORRECT.values(), ids=CORRECT.keys())
def test_clear_answers_are_granted_whatever_their_words(mail_type: str, text: str) -> None:
    assert _review(text, mail_type) == (True, ())


@pytest.mark.parametrize("text", EVASIVE.values(), ids=EVASIVE.keys())
@pytest.mark.parametrize("mail_type", ["TRANSACTIONAL", "MARKETING"])
def test_evasive_requests_are_denied(mail_type: str, text: str) -> None:
    assert _review(text, mail_type) == (False, ALL)


def test_a_vague_answer_is_named_with_what_it_lacks() -> None:
    outcome = review(
        {
            "UseCaseDescription": CORRECT["terse"][1].replace(
                "Bounces and complaints come via SNS; we delete the address.",
                "We handle bounces and complaints properly.",
            ),
            "MailType": "TRANSACTIONAL",
            "WebsiteURL": "https://shop.example",
            "ProductionAccessEnabled": True,
        }
    )
    assert [q.key for q in outcome.missing] == ["feedback"]
    (reason,) = outcome.reasons
    assert "bounces and complaints" in reason and "not what you do about them" in reason
    assert "Bounces and complaints: " in reason  # how to label the answer


def test_bounces_without_complaints_do_not_answer_the_fourth_question() -> None:
    text = CORRECT["terse"][1].replace("Bounces and complaints", "Bounces")
    assert _review(text) == (False, ("feedback",))


def test_an_unsubscribe_without_a_way_to_do_it_is_not_an_answer() -> None:
    text = CORRECT["terse"][1].replace(
        "Each mail has an unsubscribe link.", "They can unsubscribe whenever they like."
    )
    assert _review(text) == (False, ("unsubscribe",))


def test_marketing_needs_consent_transactional_needs_a_relationship() -> None:
    """A customer account is where transactional mail belongs; marketing needs people who asked
    for it (opt-in), so the same list answer is right for one mail type and not the other."""
    text = (
        "Recipients are customers who create an account in our shop. We send order receipts "
        "and a monthly newsletter. Every email has an unsubscribe link. Bounces and complaints "
        "arrive through SNS and we remove the address."
    )
    assert _review(text, "TRANSACTIONAL") == (True, ())
    outcome = review(
        {
            "UseCaseDescription": text,
            "MailType": "MARKETING",
            "WebsiteURL": "https://shop.example",
            "ProductionAccessEnabled": True,
        }
    )
    assert [q.key for q in outcome.missing] == ["recipients"]
    assert any("opt in" in r and "MARKETING" in r for r in outcome.reasons)
    opted_in = text.replace("create an account in our shop", "opt in to our newsletter")
    assert _review(opted_in, "MARKETING") == (True, ())


def test_transactional_senders_may_say_they_send_no_marketing() -> None:
    text = CORRECT["transactional-only"][1]
    assert "never marketing" in text
    assert _review(text, "TRANSACTIONAL") == (True, ())


def test_a_bought_list_is_denied_however_well_written() -> None:
    text = CORRECT["terse"][1].replace("Users sign up on our site.", "We bought a list of leads.")
    outcome = review(
        {
            "UseCaseDescription": text,
            "MailType": "MARKETING",
            "WebsiteURL": "https://shop.example",
            "ProductionAccessEnabled": True,
        }
    )
    assert not outcome.granted
    assert any("bought" in r for r in outcome.reasons)


def test_answers_are_cut_at_sentences_lines_bullets_and_labels() -> None:
    answers = answers_of("List: people who sign up.\n- We send receipts; and newsletters\n2) Done")
    assert [(a.label, a.text) for a in answers] == [
        ("List", "people who sign up"),
        ("", "We send receipts"),
        ("", "and newsletters"),
        ("", "Done"),
    ]
    assert not answers_of("How do you handle bounces and complaints?")


def test_a_keyword_list_is_told_to_write_sentences() -> None:
    outcome = review(
        {
            "UseCaseDescription": EVASIVE["keywords"],
            "MailType": "MARKETING",
            "WebsiteURL": "https://shop.example",
            "ProductionAccessEnabled": True,
        }
    )
    assert len(outcome.reasons) == 4
    assert all("A keyword is not an answer" in r for r in outcome.reasons)
    assert not any("MailType is MARKETING" in r for r in outcome.reasons)


def terse_with_feedback(answer: str) -> str:
    """The "terse" request with another answer to the bounces and complaints question."""
    return CORRECT["terse"][1].replace(
        "Bounces and complaints come via SNS; we delete the address.", answer
    )


def test_an_answer_may_run_over_two_sentences() -> None:
    text = terse_with_feedback(
        "Bounces and complaints matter to us. We delete those addresses at once."
    )
    assert _review(text) == (True, ())
    unrelated = text.replace("We delete those addresses at once.", "We like our customers.")
    assert _review(unrelated) == (False, ("feedback",))


def _request(text: str | None, mail_type: str = "TRANSACTIONAL", **fields: object) -> dict:
    request: dict[str, object] = {
        "MailType": mail_type,
        "WebsiteURL": "https://shop.example",
        "ProductionAccessEnabled": True,
        **fields,
    }
    if text is not None:
        request["UseCaseDescription"] = text
    return request


def test_bounces_and_complaints_may_be_answered_in_two_sentences() -> None:
    """AWS asks how the sender handles "bounces, complaints" (request-production-access.html):
    each may have its own answer, as long as both are answered with a practice."""
    text = terse_with_feedback(
        "Bounces are removed from our list via SNS. Complaints are removed from our list too."
    )
    assert _review(text) == (True, ())
    only_bounces = text.replace("Complaints are removed from our list too.", "We like mail.")
    assert _review(only_bounces) == (False, ("feedback",))


def test_a_label_names_the_topic_of_a_follow_up() -> None:
    """A labelled answer whose practice comes in the next sentence ("Bounces and complaints:
    they matter to us. We delete those addresses at once.") answers the question: the label
    says what the answer is about."""
    text = (
        "Bounces and complaints: they matter to us. We delete those addresses at once. "
        "Users sign up on our site. We send receipts and password resets. Each mail has an "
        "unsubscribe link."
    )
    assert _review(text) == (True, ())
    unlabelled = text.replace("Bounces and complaints: they", "They")
    assert _review(unlabelled) == (False, ("feedback",))


def test_a_bought_list_does_not_answer_the_list_question() -> None:
    """AWS's acceptable use policy: mail only recipients who asked for it; a bought list is
    a problem of its own and leaves the list question unanswered, even beside an opt-in."""
    text = CORRECT["terse"][1].replace(
        "Users sign up on our site.", "Users sign up on our site, and we bought a list of leads."
    )
    outcome = review(_request(text))
    assert not outcome.granted
    assert [q.key for q in outcome.missing] == ["recipients"]


@pytest.mark.parametrize(
    ("description", "answers"),
    [
        ("We send receipts.", [("", "We send receipts")]),
        ("One answer. - another one", [("", "One answer"), ("", "another one")]),
        (
            "We send receipts;; we send invoices",
            [("", "We send receipts"), ("", "we send invoices")],
        ),
        ("Bounces? We remove them.", [("Bounces", "We remove them")]),
        (
            "Complaints, in the SES SANDBOX? We remove them.",
            [("Complaints, in the SES SANDBOX", "We remove them")],
        ),
        (
            "One two three four five: we remove them",
            [("One two three four five", "we remove them")],
        ),
        (
            "One two three four five six: we remove them",
            [("", "One two three four five six: we remove them")],
        ),
        ("How do you handle bounces and complaints", []),
        ("How do you handle bounces. We remove them.", [("", "We remove them")]),
        (
            "Bounces? how do you think we handle them",
            [("Bounces", "how do you think we handle them")],
        ),
        ("We relay through our MAILBOX.", [("", "We relay through our MAILBOX")]),
    ],
)
def test_how_a_description_is_cut_into_answers(description: str, answers: list) -> None:
    """Answers are sentences, ``;`` clauses and bullets; a label is a few words (five at most)
    before a colon, or the question just before the answer; a copied question without its
    question mark still answers nothing, and the answers after it count."""
    assert [(a.label, a.text) for a in answers_of(description)] == answers


def reason(key: str, comment: str = "") -> str:
    (question,) = [q for q in QUESTIONS if q.key == key]
    return (
        f"Your request does not describe {question.missing}.{comment} Answer it in a sentence "
        f"of its own, for example: '{question.example}'"
    )


def test_the_reviewer_says_what_is_missing_in_full() -> None:
    """AWS's reviewers write back what a request lacks (request-production-access.html); the
    kit's reasons are exact sentences: the website, the flag, the description, and per missing
    answer what it needs, what was wrong with what was said, and an example."""
    outcome = review(
        _request(None, WebsiteURL="shop.example", ProductionAccessEnabled="true", MailType="")
    )
    assert outcome.reasons == [
        "Your request needs the address (http or https URL) of your website.",
        "ProductionAccessEnabled is not true: no production access was requested.",
        NO_DESCRIPTION,
        *(reason(q.key) for q in QUESTIONS),
    ]
    keywords = review(_request(EVASIVE["keywords"]))
    assert keywords.reasons == [
        reason(q.key, " A keyword is not an answer: say it in a sentence.") for q in QUESTIONS
    ]


def test_comments_depend_on_the_question_and_the_mail_type() -> None:
    """A MARKETING sender whose list answer names only customers is told that an account is
    not consent to marketing; a TRANSACTIONAL sender with a vague list answer, or any sender
    with a vague answer to another question, gets that question's own comment."""
    (recipients, content, _, _) = QUESTIONS
    vague_list = CORRECT["terse"][1].replace("Users sign up on our site.", "Our list is great.")
    assert review(_request(vague_list)).reasons == [reason("recipients", " " + recipients.vague)]
    accounts = CORRECT["terse"][1].replace(
        "Users sign up on our site.", "Recipients are customers who have an account."
    )
    assert review(_request(accounts, "MARKETING")).reasons == [
        reason("recipients", " " + MARKETING_CONSENT)
    ]
    vague_content = CORRECT["terse"][1].replace(
        "We send receipts and password resets.", "We send mail to customers who have accounts."
    )
    assert review(_request(vague_content)).reasons == [reason("content", " " + content.vague)]

"""The dialog has words for every refusal the phone-list module can give."""

from types import SimpleNamespace

from bot.dialog.render import ingest_error_text, reject_reason_text
from bot.i18n import create_i18n
from bot.phones import ERROR_CODES, REJECT_REASONS, IngestError


def test_every_phone_list_code_has_its_own_message() -> None:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        generic_reason = reject_reason_text("no-such-code")
        reasons = {code: reject_reason_text(code) for code in REJECT_REASONS}
        # "bad_format" is the generic "not a phone number" itself.
        assert all(text != generic_reason for code, text in reasons.items() if code != "bad_format")
        assert len(set(reasons.values())) == len(reasons)
        generic_error = ingest_error_text(SimpleNamespace(code="no-such-code", params={}))
        for code in ERROR_CODES:
            text = ingest_error_text(IngestError(code, limit=1000, row=2))
            assert text != generic_error, code
            assert "{" not in text, text

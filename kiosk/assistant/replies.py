"""What the assistant says: times and fees in words, and the replies for each kind of answer."""
from __future__ import annotations

import re

from .vocabulary import LifeEvent, ProcedureInfo


def is_english(lang: str) -> bool:
    return (lang or "").lower().startswith("en")


_is_english = is_english
def describe_legal_time(procedure: ProcedureInfo, lang: str = "vi") -> str | None:
    """Return the legal processing time in words ("Trong ngày", "3 ngày làm việc"), or None."""
    english = _is_english(lang)
    if procedure.same_day or procedure.legal_days == 0:
        return "Same day" if english else "Trong ngày"
    days = procedure.legal_days
    if days is None:
        return None
    working = _counts_working_days(days, procedure.legal_days_note)
    if english:
        unit = "working day" if working else "day"
        return f"{days} {unit}{'' if days == 1 else 's'}"
    return f"{days} ngày làm việc" if working else f"{days} ngày"


def _counts_working_days(days: int, note: str | None) -> bool:
    # Most limits are working days; the note says when one is not ("10 ngày", "07 ngày").
    if not note:
        return True
    stated = re.search(rf"(?<!\d)0*{days}\s+ngày(\s+làm\s+việc)?", note)
    return stated is None or stated.group(1) is not None


# Fee units worth showing, found in the note right after the amount ("2.000 đ/trang").
_FEE_UNITS_EN = {
    "trang": "page",
    "trường hợp": "case",
    "hợp đồng": "contract",
    "lần": "request",
    "bản sao trích lục": "copy",
    "bản sao": "copy",
    "bản": "copy",
}


def describe_fee(procedure: ProcedureInfo, lang: str = "vi") -> str | None:
    """Return the fee in words ("Miễn phí", "50.000 đồng", "2.000 đồng/trang"), or None."""
    english = _is_english(lang)
    amount = procedure.fee_vnd
    if amount is None:
        return None
    if amount == 0:
        return "Free" if english else "Miễn phí"
    unit = _fee_unit(amount, procedure.fee_note)
    if english:
        unit_en = _FEE_UNITS_EN.get(unit or "")
        return f"{amount:,} VND" + (f" per {unit_en}" if unit_en else "")
    return f"{amount:,}".replace(",", ".") + " đồng" + (f"/{unit}" if unit else "")


def _fee_unit(amount: int, note: str | None) -> str | None:
    if not note:
        return None
    written = f"{amount:,}".replace(",", ".")
    match = re.search(rf"(?<![\d.]){re.escape(written)}\s*đ/([^/;,.(—]+)", note)
    if not match:
        return None
    unit = re.split(r"\s+cho\s+|\s+\(", match.group(1))[0].strip()
    return unit if unit in _FEE_UNITS_EN else None



NOT_UNDERSTOOD = {
    "vi": "Xin lỗi, tôi chưa hiểu yêu cầu. Ông/Bà vui lòng hỏi cán bộ tại quầy hướng dẫn.",
    "en": "Sorry, I did not understand the request. Please ask the staff at the information desk.",
}
NOT_HERE = {
    "vi": "Xin lỗi, việc này không thuộc các thủ tục làm tại đây. Ông/Bà vui lòng hỏi cán bộ tại quầy hướng dẫn.",
    "en": "Sorry, this is not one of the procedures handled here. Please ask the staff at the information desk.",
}


def short(name: str) -> str:
    # "Công an – Căn cước (thẻ căn cước, …)" reads better without the parenthesis.
    return name.split(" (")[0].strip() or name


def reply_name(name: str, limit: int = 90) -> str:
    # Official names run to 300 characters; a reply names the procedure, the card shows it all.
    if len(name) <= limit:
        return name
    name = re.split(r" \(|;", name)[0].strip()
    if len(name) <= limit:
        return name
    cut = name.rfind(", ", 0, limit)
    return (name[:cut] if cut > 0 else name[:limit].rsplit(" ", 1)[0]) + "…"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _name(procedure: ProcedureInfo, lang: str) -> str:
    return reply_name((procedure.name_en or procedure.name) if is_english(lang) else procedure.name)


def confident_reply(procedure: ProcedureInfo, lang: str) -> str:
    """One procedure named, with its field, time limit, fee and what to bring."""
    legal_time = describe_legal_time(procedure, lang)
    fee = describe_fee(procedure, lang)
    if is_english(lang):
        documents = procedure.documents_en
        parts = [f"You may need the procedure “{_name(procedure, lang)}” "
                 f"(field: {short(procedure.service_name_en or procedure.service_name)})."]
        if legal_time:
            parts.append(f"Processing time: {lower_first(legal_time)}.")
        if fee:
            parts.append(f"Fee: {lower_first(fee)}.")
        unknown = [label for label, value in (("processing time", legal_time), ("fee", fee)) if not value]
        if unknown:
            parts.append(f"For the {' and '.join(unknown)}, please ask the staff.")
        if documents:
            parts.append(f"Bring: {'; '.join(documents)}.")
        parts.append("Touch “Take a number” to get your queue ticket.")
        return " ".join(parts)
    parts = [f"Ông/Bà có thể cần thủ tục “{_name(procedure, lang)}” (lĩnh vực {short(procedure.service_name)})."]
    if legal_time:
        parts.append(f"Thời hạn: {lower_first(legal_time)}.")
    if fee:
        parts.append(f"Lệ phí: {lower_first(fee)}.")
    unknown = [label for label, value in (("thời hạn", legal_time), ("lệ phí", fee)) if not value]
    if unknown:
        parts.append(f"Về {' và '.join(unknown)}, Ông/Bà vui lòng hỏi cán bộ tại quầy.")
    if procedure.documents:
        parts.append(f"Mang theo: {'; '.join(procedure.documents)}.")
    parts.append("Chạm “Lấy số” để lấy số thứ tự.")
    return " ".join(parts)


def choices_reply(procedures: list[ProcedureInfo], lang: str) -> str:
    """Not sure: ask which of (at most) three it is."""
    names = [f"“{_name(procedure, lang)}”" for procedure in procedures]
    if is_english(lang):
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return (f"Do you need {listed}? Touch the one that fits, or ask the staff at the "
                "information desk if unsure.")
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " hay " + names[-1]
    return (f"Có phải Ông/Bà cần {listed}? Chạm vào thủ tục phù hợp, hoặc hỏi cán bộ tại "
            "quầy hướng dẫn nếu chưa chắc.")


def _facts(procedure: ProcedureInfo, lang: str) -> str:
    facts = [fact for fact in (describe_legal_time(procedure, lang), describe_fee(procedure, lang)) if fact]
    return f" ({', '.join(lower_first(fact) for fact in facts)})" if facts else ""


def life_event_reply(event: LifeEvent, steps: list[ProcedureInfo], lang: str) -> str:
    """The steps of a life event in order; the ticket is for the first."""
    listed = "; ".join(f"{number}. {_name(step, lang)}{_facts(step, lang)}"
                       for number, step in enumerate(steps, start=1))
    first = _name(steps[0], lang)
    if is_english(lang):
        return (f"{event.name_en or event.name}: the procedures usually needed, in order: {listed}. "
                f"Touch “Take a number” for step 1, “{first}”; the staff will tell you about the next ones.")
    return (f"{event.name}: Ông/Bà thường cần làm lần lượt: {listed}. Chạm “Lấy số” để lấy số cho bước 1, "
            f"“{first}”; cán bộ sẽ hướng dẫn các bước tiếp theo.")

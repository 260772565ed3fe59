"""The subject's SAR report as HTML (a Jinja template) and as PDF (fpdf2, pure Python, core fonts). Both are
built from `subject.report_rows` and the stripped payloads only, so neither can carry what those leave out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from jinja2 import Environment

from eahub.audit.console.subject import WITHHELD_NOTE, SarView, report_rows
from eahub.core.web.templating import render

KIND_LABEL = {"DISCLOSURE": "Shared", "REFUSAL": "Not shared (refused)", "OVERRIDE": "Shared under break-glass",
              "CONSULTATION": "Viewed", "ACTION": "Action taken", "ERASURE": "Erased"}


def report_html(env: Environment, view: SarView, generated_at: datetime | None = None) -> str:
    return render(env, "sar_report.html", {"view": view, "rows": report_rows(view), "labels": KIND_LABEL,
                                           "withheld_note": WITHHELD_NOTE,
                                           "generated_at": generated_at or datetime.now(UTC)})


def _latin1(text: Any) -> str:
    return str(text).replace("\u2192", "->").replace("\u2013", "-").encode("latin-1", "replace").decode("latin-1")


def report_pdf(view: SarView, generated_at: datetime | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # plain text streams: the tests (and anyone) can check what the report holds
    pdf.set_title("Subject access report")
    pdf.set_author("Early Action Hub")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def para(text: str, size: int = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.55, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    para("Subject access report", 16, "B")
    para(f"Reference {view.subject_ref}; generated {(generated_at or datetime.now(UTC)).isoformat()}")
    para("What the Early Action Hub recorded about you: every share and refusal between agencies, who looked "
         "at it and why. " + WITHHELD_NOTE + ".")
    if view.erased:
        para("Your personal data held by the hub has been erased; the record of what happened remains.", 10, "B")
    for row in report_rows(view):
        pdf.ln(2)
        para(f"{row['when']}  {KIND_LABEL.get(row['kind'], row['kind'])}", 11, "B")
        para(f"From {row['source'] or '-'} to {row['recipient'] or '-'} (recorded by {row['by']})")
        if row["isa"]:
            para(f"Agreement: {row['isa']}; lawful basis: {row['lawful_basis']}")
        if row["purpose"]:
            para(f"Purpose: {row['purpose']}")
        if row["shared"]:
            para("Shared: " + ", ".join(row["shared"]))
        if row["withheld"]:
            para("Withheld: " + ", ".join(row["withheld"]))
        for reason in row["reasons"]:
            para(f"Why: {reason}")
    return bytes(pdf.output())

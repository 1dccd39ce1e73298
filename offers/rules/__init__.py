"""The rules, in one explicit tuple. Order is priority when the contact policy must
choose (at most three open offers per customer)."""

from . import savings_account, student_account, travel_world_cover
from .base import Proposal, Rule

RULES: tuple[Rule, ...] = (
    travel_world_cover.RULE,
    student_account.RULE,
    savings_account.RULE,
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_CODE", "Proposal", "Rule"]

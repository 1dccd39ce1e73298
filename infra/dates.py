"""Calendar years as the owner's SQL functions count them (PostgreSQL's
`date + interval 'n years'`): retention periods and the verifier agree to the day."""

import datetime as dt


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February moves to 28 February, as
    PostgreSQL's `date + interval 'n years'` does (the owner functions count so too)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def subtract_years(day: dt.date, years: int) -> dt.date:
    """The latest start date whose period of `years` has run out by `day`:
    `add_years(start, years) <= day` exactly when `start <= subtract_years(day, years)`."""
    target = day.year - years
    if (day.month, day.day) == (2, 28) and _leap(target) and not _leap(day.year):
        return dt.date(target, 2, 29)  # 29 February plus the years is this 28 February
    try:
        return day.replace(year=target)
    except ValueError:  # `day` is 29 February and `target` has none
        return dt.date(target, 2, 28)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)

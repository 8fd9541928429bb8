from zoneinfo import ZoneInfo

from web.formats import duration, filters


def test_durations_read_naturally() -> None:
    assert duration(None) == "—"
    assert duration(12.4) == "12 s"
    assert duration(245) == "4 min 05 s"
    assert duration(3720) == "1 h 02 min"


def test_times_are_in_the_clinics_zone() -> None:
    when = filters(ZoneInfo("America/Sao_Paulo"))["when"]
    assert when(0) == "31/12/1969 21:00"
    assert when(None) == "—"

from web.estimate import WaitRange, describe, duration_quartiles, estimate_wait

MIN = 60.0


def test_no_professional_means_no_estimate() -> None:
    assert estimate_wait(1, 0, [600.0] * 10) is None
    assert "Nenhum profissional disponível" in describe(None)


def test_defaults_without_history() -> None:
    assert duration_quartiles([300.0]) == (300.0, 900.0)
    # first in line with one professional: up to one call's upper quartile
    assert estimate_wait(1, 1, []) == WaitRange(0, 15)


def test_learns_from_recent_durations() -> None:
    durations = [8 * MIN, 10 * MIN, 10 * MIN, 12 * MIN]  # Q1 = 9.5 min, Q3 = 10.5 min
    assert estimate_wait(1, 1, durations) == WaitRange(0, 15)  # 10.5 min, rounded up to 5s
    # three ahead, one professional: three rounds before this patient
    assert estimate_wait(4, 1, durations) == WaitRange(25, 45)
    # the same queue with three professionals: one round
    assert estimate_wait(4, 3, durations) == WaitRange(9, 25)


def test_more_professionals_never_lengthen_the_wait() -> None:
    durations = [5 * MIN, 7 * MIN, 20 * MIN, 9 * MIN]
    for position in range(1, 30):
        waits = [estimate_wait(position, p, durations) for p in range(1, 6)]
        highs = [w.high_minutes for w in waits if w]
        assert highs == sorted(highs, reverse=True)


def test_words() -> None:
    assert describe(WaitRange(0, 5)) == "Espera estimada: até 5 min"
    assert describe(WaitRange(10, 20)) == "Espera estimada: entre 10 e 20 min"

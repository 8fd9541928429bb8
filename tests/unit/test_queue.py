from datetime import date

from web.queue import Priority, State, Waiting, can_move, ordered, positions, priority_for

TODAY = date(2026, 12, 3)


def test_priority_classes_by_age() -> None:
    assert priority_for(date(1940, 1, 1), TODAY) is Priority.SUPER
    assert priority_for(date(1960, 1, 1), TODAY) is Priority.PRIORITY
    assert priority_for(date(1990, 1, 1), TODAY) is Priority.NONE


def test_order_is_priority_then_arrival() -> None:
    waiting = [
        Waiting(1, Priority.NONE, 1),
        Waiting(2, Priority.PRIORITY, 2),
        Waiting(3, Priority.SUPER, 3),
        Waiting(4, Priority.PRIORITY, 4),
        Waiting(5, Priority.NONE, 5),
    ]
    assert [w.ticket_id for w in ordered(waiting)] == [3, 2, 4, 1, 5]
    assert positions(waiting) == {3: 1, 2: 2, 4: 3, 1: 4, 5: 5}


def test_positions_have_no_gaps() -> None:
    waiting = [Waiting(i, Priority.NONE, i * 10) for i in (7, 3, 9)]
    assert sorted(positions(waiting).values()) == [1, 2, 3]


def test_state_machine() -> None:
    assert can_move(State.WAITING, State.CALLED)
    assert can_move(State.CALLED, State.IN_CALL)
    assert can_move(State.IN_CALL, State.ENDED)
    assert not can_move(State.ENDED, State.WAITING)
    assert not can_move(State.WAITING, State.IN_CALL)
    assert not can_move(State.LEFT, State.WAITING)

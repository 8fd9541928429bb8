from datetime import date

from web.queue import (
    Priority,
    State,
    Waiting,
    can_move,
    ordered,
    outcome_label,
    positions,
    priority_for,
)

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


def test_declared_conditions_and_age_give_priority_with_reasons() -> None:
    from web.queue import decide_priority

    young = date(1995, 6, 1)
    assert decide_priority(young, TODAY, []).priority is Priority.NONE
    pregnant = decide_priority(young, TODAY, ["gestante", "nonsense"])
    assert (pregnant.priority, pregnant.reasons) == (Priority.PRIORITY, ("gestante",))
    assert pregnant.label == "Gestante"
    elder = decide_priority(date(1940, 1, 1), TODAY, ["mobilidade"])
    assert elder.priority is Priority.SUPER
    assert elder.label == "80 anos ou mais; Pessoa com mobilidade reduzida"
    assert decide_priority(date(1960, 1, 1), TODAY, []).label == "60 anos ou mais"
    off = decide_priority(date(1940, 1, 1), TODAY, ["gestante"], enabled=False)
    assert (off.priority, off.reasons) == (Priority.NONE, ())


def test_requeued_tickets_go_first() -> None:
    waiting = [
        Waiting(1, Priority.SUPER, 1),
        Waiting(2, Priority.NONE, 9, requeued=True),
        Waiting(3, Priority.NONE, 3),
    ]
    assert [w.ticket_id for w in ordered(waiting)] == [2, 1, 3]


def test_no_show_goes_back_once_then_out() -> None:
    from web.queue import after_no_show

    assert after_no_show(0) is State.WAITING
    assert after_no_show(1) is State.LEFT


def test_a_ticket_outcome_in_words() -> None:
    assert outcome_label("ended", "patient_hangup") == "Encerrado (o paciente desligou)"
    assert outcome_label("left", "removed:pedido") == (
        "Saiu da fila (retirado pela equipe: a pedido do próprio paciente)"
    )
    assert outcome_label("left", "patient_left") == "Saiu da fila (o paciente saiu da fila)"
    # the reason of an earlier try that did not start is not the state's reason
    assert outcome_label("waiting", "professional_hangup") == "Aguardando"
    assert outcome_label("in_call", "no_connection") == "Em atendimento"

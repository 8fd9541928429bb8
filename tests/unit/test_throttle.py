import pickle

from web.throttle import Guards, Lockout, RateLimit, wait_text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockout_after_the_limit_with_back_off() -> None:
    clock = Clock()
    lock = Lockout(limit=3, window=60, lockout=100, clock=clock)
    for _ in range(2):
        lock.failure("cpf:1", "ip:a")
    assert lock.locked_for("cpf:1") == 0
    lock.failure("cpf:1", "ip:a")
    assert lock.locked_for("cpf:1") == 100
    assert lock.locked_for("ip:a", "cpf:2") == 100  # any locked key locks the attempt
    assert lock.locked_for("cpf:2") == 0
    clock.now += 101
    assert lock.locked_for("cpf:1") == 0
    for _ in range(3):
        lock.failure("cpf:1")
    assert lock.locked_for("cpf:1") == 200  # the second lockout lasts twice as long


def test_failures_outside_the_window_do_not_count_and_success_clears() -> None:
    clock = Clock()
    lock = Lockout(limit=2, window=10, lockout=50, clock=clock)
    lock.failure("k")
    clock.now += 11
    lock.failure("k")
    assert lock.locked_for("k") == 0
    lock.success("k")
    lock.failure("k")
    assert lock.locked_for("k") == 0


def test_lockout_keeps_no_cpf_or_e_mail_in_memory() -> None:
    lock = Lockout(limit=2, window=60, lockout=100, clock=Clock())
    for _ in range(2):
        lock.failure("cpf:52998224725", "email:ana@example.org")
    assert lock.locked_for("cpf:52998224725") == 100
    kept = pickle.dumps(lock.__dict__ | {"clock": None})  # everything the lockout holds
    assert b"52998224725" not in kept and b"ana@example.org" not in kept


def test_a_sign_in_counts_before_the_check_and_a_success_takes_it_back() -> None:
    clock = Clock()
    guards = Guards(
        accounts=Lockout(limit=2, window=60, lockout=100, clock=clock),
        addresses=Lockout(limit=3, window=60, lockout=100, clock=clock),
        registrations=RateLimit(10, 60, clock=clock),
        chat=RateLimit(10, 10, clock=clock),
    )
    assert guards.sign_in_attempt("email:a", "ip:x") == 0  # counted already
    guards.signed_in("email:a", "ip:x")  # right password: forgiven
    for account in ("email:b", "email:c"):
        assert guards.sign_in_attempt(account, "ip:x") == 0  # two wrong ones, not forgiven
    assert guards.sign_in_attempt("email:a", "ip:x") == 0  # the third failure locks the address
    assert guards.sign_in_attempt("email:d", "ip:x") == 100
    assert guards.sign_in_attempt("email:d", "ip:y") == 0  # another address is free
    assert guards.sign_in_attempt("email:d", "ip:z") == 0  # d's second failure locks d
    assert guards.sign_in_attempt("email:d", "ip:w") == 100


def test_rate_limit() -> None:
    clock = Clock()
    limit = RateLimit(limit=2, window=10, clock=clock)
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert limit.allow("b")
    clock.now += 10.5
    assert limit.allow("a")


def test_wait_text() -> None:
    assert wait_text(30) == "Muitas tentativas. Tente de novo em 1 minuto."
    assert wait_text(299) == "Muitas tentativas. Tente de novo em 5 minutos."

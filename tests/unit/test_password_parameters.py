"""argon2id at OWASP's minimum (m=19 MiB, t=2, p=1); hashes made before still verify."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters

from shop_common.passwords import check_password, hash_password, verify_password

PASSWORD = "correct-horse-battery-9"


def test_new_hashes_use_owasps_minimum_parameters() -> None:
    parameters = extract_parameters(hash_password(PASSWORD))
    assert parameters.type.name == "ID"
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
    assert parameters.parallelism == 1


def test_a_hash_made_with_the_old_parameters_verifies_and_asks_for_a_rehash() -> None:
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(PASSWORD)
    assert verify_password(old, PASSWORD)
    assert not verify_password(old, PASSWORD + "x")
    assert check_password(old, PASSWORD).rehash
    assert not check_password(hash_password(PASSWORD), PASSWORD).rehash

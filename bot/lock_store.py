"""Old class path: a clinic's endpoints file may name `bot.lock_store.AtomicRedisLockStore`, and Rasa imports the
class by that string. The lock store is in bot/rasa_ext/lock_store.py; this line keeps the old name working."""

from bot.rasa_ext.lock_store import AtomicRedisLockStore as AtomicRedisLockStore

from celery import shared_task


@shared_task(name="providers.tasks.check_account")
def check_account(account_id: int) -> bool:
    from providers.services import account_check

    return account_check(account_id=account_id).ok


@shared_task(name="providers.tasks.check_all_accounts")
def check_all_accounts() -> int:
    from providers.selectors import active_account_ids

    ids = active_account_ids()
    for account_id in ids:
        check_account.delay(account_id)
    return len(ids)

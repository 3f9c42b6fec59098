"""HubSpot's official Python client (hubspot-api-client 12.0.0) against the Tandem sandbox,
unchanged except for its `host`. Each step prints what it saw; any surprise raises.

Usage: python hubspot_scenario.py <sandbox base URL, e.g. http://127.0.0.1:8090>
"""

import json
import sys

from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from urllib3.util.retry import Retry
import urllib.request


def control(base, path, body=None, method="POST"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/_control/hubspot{path}", data=data, method=method,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main(base):
    account = "fidelity-py"
    control(base, f"/accounts/{account}/reset")
    token = control(base, f"/accounts/{account}/tokens/static")["access_token"]
    # Without retries, so that the 429 below reaches us instead of being retried by urllib3.
    client = HubSpot(access_token=token, host=f"{base}/hubspot/{account}", retry=Retry(total=0, raise_on_status=False))
    contacts = client.crm.contacts

    created = contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": "grace.hopper@example.com", "firstname": "Grace", "lastname": "Hopper"}))
    check(created.id and created.properties["email"] == "grace.hopper@example.com", "create")
    print(f"create: id={created.id} createdAt={created.created_at.isoformat()}")

    fetched = contacts.basic_api.get_by_id(created.id, properties=["email", "firstname", "lastname"])
    check(fetched.properties["lastname"] == "Hopper", "get_by_id")
    print(f"get_by_id: {fetched.properties['firstname']} {fetched.properties['lastname']}")

    updated = contacts.basic_api.update(created.id, SimplePublicObjectInput(properties={"lastname": "Hopper-Murray"}))
    check(updated.properties["lastname"] == "Hopper-Murray", "update")
    print(f"update: lastname={updated.properties['lastname']} updatedAt={updated.updated_at.isoformat()}")

    first = contacts.basic_api.get_page(limit=10, properties=["email"])
    second = contacts.basic_api.get_page(limit=10, after=first.paging.next.after, properties=["email"])
    check(len(first.results) == 10 and first.paging.next.after, "first page")
    check(not set(r.id for r in first.results) & set(r.id for r in second.results), "pages overlap")
    everything = contacts.get_all(properties=["email"])
    check(len(everything) == 25, f"get_all saw {len(everything)} contacts")
    print(f"paging: page 1 has {len(first.results)}, next after={first.paging.next.after}; get_all read {len(everything)}")

    search = contacts.search_api.do_search(PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "customer_tier", "operator": "EQ", "value": "gold"}]}],
        sorts=[{"propertyName": "email", "direction": "ASCENDING"}],
        properties=["email", "customer_tier"], limit=3))
    check(search.total == 8 and len(search.results) == 3 and search.paging.next.after == "3", "search")
    emails = [r.properties["email"] for r in search.results]
    check(emails == sorted(emails), "search sort")
    print(f"search: total={search.total}, first page {emails}, next after={search.paging.next.after}")

    batch = contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        {"properties": {"email": f"batch{i}@example.com", "firstname": f"Batch {i}"}} for i in range(3)]))
    check(batch.status == "COMPLETE" and len(batch.results) == 3, "batch create")
    upsert = contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        {"idProperty": "email", "id": "batch0@example.com", "properties": {"lastname": "Updated"}},
        {"idProperty": "email", "id": "new.upsert@example.com", "properties": {"firstname": "New"}}]))
    flags = sorted(bool(r.new) for r in upsert.results)
    check(flags == [False, True], f"upsert new flags {flags}")
    print(f"batch: created {len(batch.results)} ({batch.status}); upsert new flags {flags}")

    try:
        contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={"email": "not-an-email"}))
        raise AssertionError("an invalid email was accepted")
    except ApiException as error:
        body = json.loads(error.body)
        check(error.status == 400 and body["category"] == "VALIDATION_ERROR", "validation error")
        print(f"validation error: {type(error).__name__} status={error.status} category={body['category']} "
              f"message={body['message'][:60]!r}")

    control(base, f"/accounts/{account}/faults", {"rate_limit_burst": 1}, method="PUT")
    try:
        contacts.basic_api.get_by_id(created.id)
        raise AssertionError("the injected 429 did not surface")
    except ApiException as error:
        body = json.loads(error.body)
        headers = {k.lower(): v for k, v in error.headers.items()}
        check(error.status == 429 and body["errorType"] == "RATE_LIMIT", "429")
        check("x-hubspot-ratelimit-remaining" in headers and "x-hubspot-ratelimit-max" in headers, "rate limit headers")
        print(f"rate limit: status={error.status} policyName={body['policyName']} "
              f"X-HubSpot-RateLimit-Max={headers['x-hubspot-ratelimit-max']} "
              f"X-HubSpot-RateLimit-Remaining={headers['x-hubspot-ratelimit-remaining']}")

    contacts.basic_api.archive(created.id)
    try:
        contacts.basic_api.get_by_id(created.id)
        raise AssertionError("archived contact still readable")
    except ApiException as error:
        check(error.status == 404, "archived → 404")
        print(f"archive: then get_by_id raises {type(error).__name__} status={error.status}")
    print("hubspot-api-client scenario: all steps passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))

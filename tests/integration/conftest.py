from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.support import csrf_from, make_config
from web.app import create_app
from web.config import Config

ClientMaker = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
async def client(aiohttp_client: ClientMaker, config: Config) -> TestClient:
    return await aiohttp_client(create_app(config))


async def post_form(client: TestClient, page: str, action: str, data: dict[str, str]):
    """Open `page` like a browser, then submit its form with the page's CSRF token."""
    html = await (await client.get(page)).text()
    return await client.post(
        action, data={**data, "csrf_token": csrf_from(html)}, allow_redirects=True
    )

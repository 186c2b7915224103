"""A settled session takes the environment's proxy and CA settings once, as requests would on
each request, and keeps them."""

from providers.sessions import settled_session


def test_the_proxy_and_ca_bundle_of_the_environment_are_kept(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = settled_session("https://graph.facebook.com")
    assert session.proxies["https"] == "http://proxy.example:3128"
    assert session.verify == str(bundle)
    assert session.trust_env is False  # nothing more is read per request (nor ~/.netrc)


def test_no_proxy_is_honoured_and_nothing_set_means_direct(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "graph.facebook.com")
    assert "https" not in settled_session("https://graph.facebook.com").proxies
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    direct = settled_session("https://graph.facebook.com")
    assert direct.proxies == {} and direct.verify is True

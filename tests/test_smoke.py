"""The app starts, serves its public pages and answers its health check."""


def test_public_networks_page_lists_networks_without_people(
    client, make_network, make_contact_point
):
    make_network("wacap", acronym="WACAP", states="SN ML")
    make_contact_point(name="Secret Person Name")
    page = client.get("/networks").get_data(as_text=True)
    assert "WACAP" in page
    assert "Senegal" in page
    assert "Secret Person Name" not in page


def test_health_check_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"

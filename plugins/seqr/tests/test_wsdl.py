"""The project's WSDL against SEQR's published one, and the sandbox driven through SEQR's.

SEQR's file lives beside the repository (../shared/specs/seqr), as in CI; the tests that need it
are skipped where it is absent. The project's WSDL may differ from it only by the four documented
v2.6 additions."""

from __future__ import annotations

import httpx
import pytest
import zeep
from lxml import etree
from starlette.applications import Starlette
from starlette.routing import Mount

from plugins.seqr.client import WSDL_PATH, Invoice, InvoiceRow, Principal, SeqrClient, load_wsdl
from plugins.seqr.sandbox import create_sandbox
from plugins.seqr.sandbox.state import TEST_PIN
from plugins.seqr.status import STATUSES
from shop.money import Money

from .conftest import ENDPOINT, SEQR_WSDL

NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/", "xs": "http://www.w3.org/2001/XMLSchema",
      "soap": "http://schemas.xmlsoap.org/wsdl/soap/"}
TNS = "http://external.interfaces.ers.seamless.com/"
# (complex type, element) and (simple type, value) the v2.6 interface added to the 2013 WSDL
V26_ELEMENTS = {("invoice", "commitReservationTimeout"), ("commitReservation", "amount")}
V26_VALUES = {("paymentMode", "RESERVATION_REQUIRED_PRELIMINARY_AMOUNT"), ("invoiceStatus", "EXPIRED")}

# Skipped only where ../shared/specs/seqr is missing altogether: a folder without the file fails.
needs_seqr_wsdl = pytest.mark.skipif(not SEQR_WSDL.parent.is_dir(), reason="no ../shared/specs/seqr beside the repo")
pytestmark = pytest.mark.anyio


def _elements(node: etree._Element) -> list:
    """A sequence's elements as comparable tuples; anonymous types are expanded in place."""
    out = []
    for el in node.iterfind("xs:sequence/xs:element", NS):
        inner = el.find("xs:complexType", NS)
        out.append((
            el.get("name"), el.get("type"), el.get("minOccurs", "1"), el.get("maxOccurs", "1"),
            el.get("nillable", "false"), tuple(_elements(inner)) if inner is not None else None,
        ))
    return out


def schema_facts(path) -> dict:
    doc = etree.parse(str(path))
    schema = doc.find("wsdl:types/xs:schema", NS)
    types = {}
    for ct in schema.iterfind("xs:complexType", NS):
        ext = ct.find("xs:complexContent/xs:extension", NS)
        body = ext if ext is not None else ct
        types[ct.get("name")] = (ext.get("base") if ext is not None else None, _elements(body))
    return {
        "targetNamespace": (doc.getroot().get("targetNamespace"), schema.get("targetNamespace"),
                            schema.get("elementFormDefault")),
        "elements": {e.get("name"): e.get("type") for e in schema.iterfind("xs:element", NS)},
        "types": types,
        "enums": {(st.get("name"), v.get("value")) for st in schema.iterfind("xs:simpleType", NS)
                  for v in st.iterfind("xs:restriction/xs:enumeration", NS)},
        "messages": {m.get("name"): m.find("wsdl:part", NS).get("element") for m in doc.iterfind("wsdl:message", NS)},
        "operations": {
            op.get("name"): (op.find("wsdl:input", NS).get("message"), op.find("wsdl:output", NS).get("message"))
            for op in doc.iterfind("wsdl:portType/wsdl:operation", NS)
        },
        "binding": {
            op.get("name"): (op.find("soap:operation", NS).get("soapAction"),
                             op.find("wsdl:input/soap:body", NS).get("use"),
                             op.find("wsdl:output/soap:body", NS).get("use"))
            for op in doc.iterfind("wsdl:binding/wsdl:operation", NS)
        },
        "style": {b.find("soap:binding", NS).get("style") for b in doc.iterfind("wsdl:binding", NS)},
    }


def test_own_wsdl_loads_from_disk_only():
    doc = load_wsdl()
    binding = next(iter(doc.bindings.values()))
    assert len(binding.all()) == 19
    assert {"sendInvoice", "getPaymentStatus", "refundPayment", "executeReport"} <= set(binding.all())


def test_own_wsdl_knows_every_status_the_table_maps():
    ours = schema_facts(WSDL_PATH)
    assert {v for t, v in ours["enums"] if t == "invoiceStatus"} == set(STATUSES)


@needs_seqr_wsdl
def test_wsdls_agree_on_namespace_operations_and_elements():
    seqr, ours = schema_facts(SEQR_WSDL), schema_facts(WSDL_PATH)
    assert ours["targetNamespace"] == seqr["targetNamespace"] == (TNS, TNS, "unqualified")
    assert ours["elements"] == seqr["elements"]
    assert ours["messages"] == seqr["messages"]
    assert ours["operations"] == seqr["operations"]
    assert ours["binding"] == seqr["binding"]
    assert ours["style"] == seqr["style"] == {"document"}
    assert set(ours["types"]) == set(seqr["types"])
    for name, (base, elements) in ours["types"].items():
        trimmed = [e for e in elements if (name, e[0]) not in V26_ELEMENTS]
        assert (base, trimmed) == seqr["types"][name], name
    assert ours["enums"] - seqr["enums"] == V26_VALUES
    assert seqr["enums"] <= ours["enums"]


@needs_seqr_wsdl
def test_zeep_sees_the_same_operations_in_both():
    seqr = zeep.Client(str(SEQR_WSDL))
    ours = zeep.Client(wsdl=load_wsdl())
    ops = lambda c: set(next(iter(c.wsdl.bindings.values())).all())  # noqa: E731
    assert ops(seqr) == ops(ours)


@needs_seqr_wsdl
async def test_seqr_wsdl_drives_the_sandbox(http, sb):
    """A client built on SEQR's own WSDL does a whole day's work against the sandbox."""
    client = SeqrClient(http, ENDPOINT, Principal("public_test_shop_terminal", "12345678"), wsdl=SEQR_WSDL)
    eur = lambda minor: Money(minor, "EUR")  # noqa: E731
    invoice = Invoice(title="Order 9", total=eur(1500), client_invoice_id="9",
                      rows=(InvoiceRow("Tea", 3, eur(500), eur(1500), sku="TEA"),),
                      notification_url="http://shop.test/cb/x", back_url="http://shop.test/back")
    sent = await client.send_invoice(invoice)
    assert (await client.get_payment_status(sent.reference)).status == "ISSUED"
    await client.update_invoice(sent.reference, invoice)
    sb.scan(sent.reference)
    assert sb.confirm(sent.reference, TEST_PIN) == "paid"
    state = await client.get_payment_status(sent.reference)
    assert state.status == "PAID" and state.receipt.total == eur(1500)
    refund = await client.refund_payment(state.ers_reference, eur(500))
    await client.submit_payment_receipt(refund.ers_reference, b"<p>refund</p>")
    other = await client.send_invoice(invoice)
    await client.cancel_invoice(other.reference)
    reserved = await client.send_invoice(Invoice(title="R", total=eur(100), payment_mode="RESERVATION_REQUIRED"))
    sb.scan(reserved.reference)
    sb.confirm(reserved.reference, TEST_PIN)
    await client.commit_reservation(reserved.reference)  # the 2013 shape, without an amount
    period = await client.mark_transaction_period()
    sb.clock.advance(5)
    rows = (await client.execute_report("Reconciliation/STD_RECON_003.xml", period)).rows()
    assert len(rows) == 2


async def test_wsdl_is_served_with_its_own_address(http):
    response = await http.get("/soap/merchant/cashregister-2?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    address = etree.fromstring(response.content).find(".//soap:address", NS).get("location")
    assert address == ENDPOINT


async def test_wsdl_address_follows_the_mount():
    parent = Starlette(routes=[Mount("/sandbox/seqr", app=create_sandbox(None))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=parent), base_url="http://shop.test") as http:
        response = await http.get("/sandbox/seqr/soap/merchant/cashregister-2?wsdl")
        address = etree.fromstring(response.content).find(".//soap:address", NS).get("location")
        assert address == "http://shop.test/sandbox/seqr/soap/merchant/cashregister-2"
        # and the served document drives the service it names
        ops = zeep.Client(wsdl=_doc_from_bytes(response.content)).wsdl.bindings
        assert len(next(iter(ops.values())).all()) == 19


def _doc_from_bytes(content: bytes):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".wsdl", delete=False) as f:
        f.write(content)
    return load_wsdl(f.name)

"""Tests for tasks/classify.py: the rules classifier against realistic letter texts, and fields.

The letters are written for these tests in the language of real German administrative post;
some carry the damage OCR does (lost umlaut dots, ``rn`` read for ``m``, hyphenated line ends).
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from flows import samples
from flows.samples import DOC_TYPES, Split, compose
from schemas.letter import Fields
from schemas.taxonomy import RuleCalibration, Scoring, Taxonomy, load_taxonomy
from tasks.classify import (
    classify_text,
    extract_aktenzeichen,
    extract_amount,
    extract_customer_number,
    extract_date,
    extract_fields,
    extract_iban,
    extract_invoice_number,
    extract_sender,
    find_aktenzeichen,
    find_amount,
    find_date,
    find_iban,
    find_invoice_number,
    find_sender,
    fold,
    fuzzy_find,
    iban_is_valid,
    normalise,
    rule_confidence,
)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    """Return the packaged taxonomy."""
    return load_taxonomy()


RECHNUNG_STROM = """\
Stadtwerke Musterstadt GmbH · Hafenstraße 12 · 59494 Soest
Kreis Soest
Zentrale Vergabestelle
Hoher Weg 1-3
59494 Soest
                                              Soest, 04.03.2026
Rechnung
Rechnungsnummer: RE-2026-04711
Kundennummer: 100234
Leistungszeitraum: 01.02.2026 - 28.02.2026
Pos. Bezeichnung                     Menge        Einzelpreis      Gesamt
1    Stromlieferung Kreishaus        12.400 kWh   0,26 €           3.224,00 €
Nettobetrag                                                        3.224,00 €
zzgl. 19 % USt                                                       612,56 €
Gesamtbetrag                                                       3.836,56 €
Zahlbar innerhalb von 14 Tagen ohne Abzug.
Bankverbindung: Sparkasse Soest, IBAN DE89 3704 0044 0532 0130 00, BIC WELADED1SOS
USt-IdNr. DE123456789
"""

RECHNUNG_OCR = """\
Buroausstattung Meier KG
Industriestr. 7
33102 Paderborn

Kreisverwaltung Soest
Hoher Weg 1-3
59494 Soest

Rechnungsnurnmer 2026/0815            Datum 12.3.26
Kunden-Nr. K-5531

Sehr geehrte Damen und Herren,
fur die Lieferung von 20 Burodrehstuhlen gemaß Ihrer Bestellung vom 02.03.2026 berechnen
wir Ihnen:
Summe netto                       4.200,00 EUR
MwSt 19%                            798,00 EUR
Rechnungsbetrag                   4.998,00 EUR
Bitte uberweisen Sie den Betrag bis zum 26.03.2026 unter Angabe der Rechnungsnummer.
"""

RECHNUNG_HANDWERK = """\
Elektro Brandt Meisterbetrieb
Schlussrechnung Nr. 26-0042
Bauvorhaben: Kreishaus, Austausch der Flurbeleuchtung
Wir bedanken uns für Ihren Auftrag und stellen Ihnen unsere Leistungen in Rechnung:
Material und Arbeitszeit lt. Aufmaß          1.850,00 €
zzgl. Umsatzsteuer 19 %                        351,50 €
zu zahlender Betrag                          2.201,50 €
Zahlungsziel: 30 Tage netto
"""

RECHNUNG_KNAPP = """\
RECHNUNG
Rechnungs-Nr.: 8812
Pos Artikel Menge Preis
1 Toner HP 26A 4 89,90 € 359,60 €
IBAN DE02 1203 0000 0000 2020 51
"""

MAHNUNG_ERSTE = """\
Autohaus Berger GmbH · Musterweg 5 · 33098 Paderborn
Kreis Soest, Fuhrpark
Hoher Weg 1-3
59494 Soest
                                            Paderborn, 16.03.2026
1. Mahnung
Rechnung Nr. 2026-117 vom 15.01.2026
Sehr geehrte Damen und Herren,
sicher ist es Ihrer Aufmerksamkeit entgangen, dass unsere o. g. Rechnung trotz Fälligkeit
noch nicht beglichen wurde.
Offener Betrag:                 845,30 €
Mahngebühr:                       5,00 €
Gesamtforderung:                850,30 €
Bitte überweisen Sie den Betrag bis zum 30.03.2026.
"""

MAHNUNG_OCR = """\
ZAHLUNGSERINNERUNG
Kunden-Nr. 55012
Sehr geehrte Damen und Herren,
unsere Rechnung vom 02.02.2026 ist bislang unbezahlt. Leider konnten wir bisher keinen
Zahlungseingang feststellen. Sollten Sie die Zahlung bereits veranlasst haben, betrachten
Sie dieses Schreiben als gegenstandslos.
Bei weiterem Zahlungsverzug sehen wir uns gezwungen, das gerichtliche Mahnverfahren
einzuleiten.
"""

MAHNUNG_LETZTE = """\
Letzte Mahnung vor Ubergabe an ein Inkassounternehmen
Trotz unserer Zahlungserinnerung vom 10.02.2026 ist der offene Betrag
von 1.180,00 EUR noch immer nicht ausgeglichen. Zuzüglich Mahnkosten und Verzugszinsen
ergibt sich eine Gesamtforderung von 1.203,40 EUR.
"""

ANTRAG_WOHNGELD = """\
Erika Musterfrau
Lindenstraße 8
59494 Soest

Kreis Soest
- Wohngeldstelle -
Hoher Weg 1-3
59494 Soest
                                          Soest, den 10. März 2026
Antrag auf Wohngeld (Mietzuschuss)
Sehr geehrte Damen und Herren,
hiermit beantrage ich Wohngeld für meine Wohnung in der Lindenstraße 8. Die Nachweise
über mein Einkommen und den Mietvertrag habe ich beigefügt.
"""

ANTRAG_WOHNGELD_OCR = """\
Betreff: Weiterleistungsantrag Lastenzuschuss
sehr geehrte Damen und Herren,
mein Bewilligungszeitraum endet am 31.05.2026. Ich mochte die Weiterbewilligung
von Wohnqeld als Lastenzuschuss fur mein Eigenheim beantragen.
"""

ANTRAG_BAU = """\
Architekturbüro Hansen & Partner
Betreff: Bauantrag Neubau eines Einfamilienhauses, Gemarkung Soest, Flur 12, Flurstück 345
Sehr geehrte Damen und Herren,
namens und im Auftrag unserer Bauherrin reichen wir den Bauantrag mit den vollständigen
Bauvorlagen in dreifacher Ausfertigung ein und bitten um Erteilung der Baugenehmigung.
"""

ANTRAG_BAU_OCR = """\
Antrag auf Nutzungsanderung
Hiermit beantrage ich die Genehmigung zur Nutzungsanderung der Scheune auf dem
Grundstuck Hofweg 4 (Flurstuck 88) in eine Ferienwohnung. Lageplan und Bauvor-
lagen des Entwurfsverfassers liegen bei.
"""

ANTRAG_ELTERNGELD = """\
Jonas Becker
Am Markt 3
59555 Lippstadt
An die Elterngeldstelle
Hiermit stelle ich einen Antrag auf Elterngeld für unsere Tochter Mia, geboren am
14.01.2026. Ich beantrage Basiselterngeld für die Lebensmonate 1 bis 12 sowie den
Partnerschaftsbonus.
Anlagen: Geburtsurkunde, Einkommensnachweise
"""

ANTRAG_ELTERNGELD_OCR = """\
Antrag auf EIterngeld Plus
ich beantrage ElterngeldPlus fur die Monate 3 bis 14 nach der Geburt meines Sohnes.
Die Bescheinigung der Krankenkasse uber das Mutterschaftsgeld liegt bei.
"""

ANTRAG_PARK = """\
Sehr geehrte Damen und Herren,
ich möchte einen Bewohnerparkausweis für die Zone B (Altstadt) beantragen.
Amtliches Kennzeichen: SO-AB 123
Meldebescheinigung und Fahrzeugschein liegen in Kopie bei.
"""

ANTRAG_PARK_OCR = """\
Antrag auf Ausstellung eines Parkausweises fur Menschen mit Behinderung
Hiermit beantrage ich eine Parkerleichterung (blauer Parkausweis). Den Schwerbehinderten-
ausweis mit dem Merkzeichen aG fuge ich in Kopie bei.
"""

ANTRAG_SONST = """\
Antrag auf Erteilung einer Sondernutzungserlaubnis
Sehr geehrte Damen und Herren,
hiermit beantrage ich die Erlaubnis, am 16.05.2026 auf dem Marktplatz einen
Informationsstand unseres Vereins aufzustellen.
"""

WIDERSPRUCH_BUERGER = """\
Max Mustermann
Gartenweg 3
59494 Soest

Kreis Soest
Hoher Weg 1-3
59494 Soest
                                         Soest, 12.03.2026
Ihr Zeichen: 50.2-WG-2026/117
Widerspruch gegen den Bescheid vom 02.03.2026
Sehr geehrte Damen und Herren,
gegen den oben genannten Bescheid, mit dem mein Antrag auf Wohngeld abgelehnt wurde, lege
ich hiermit fristgerecht Widerspruch ein. Eine Begründung reiche ich nach. Ich bitte um
Aufhebung des Bescheides.
"""

WIDERSPRUCH_ANWALT = """\
RECHTSANWALTE SCHULZ & KOLLEGEN
In Sachen Hoffmann ./. Kreis Soest
Ihr Az.: 63-BG-2026-00123
Sehr geehrte Damen und Herren,
wir zeigen an, dass wir Herrn Peter Hoffmann vertreten. Namens und in Vollmacht unseres
Mandanten erheben wir gegen den Gebuhrenbescheid vom 20.02.2026 Widerspruch.
Die Begrundung erfolgt mit gesondertem Schriftsatz.
"""

WIDERSPRUCH_OCR = """\
Betr.: Wlderspruch Kostenbescheid Abschleppen
hiermit widerspreche ich dem Kostenbescheid vom 01.03.2026. Mein Fahrzeug stand nicht
im Halteverbot. Ich beantrage die Aufhebung des Bescheides.
"""

BESCHWERDE_STRASSE = """\
Sehr geehrte Damen und Herren,
hiermit möchte ich mich über den Zustand der Kreisstraße K 12 zwischen Ense und Bremen
beschweren. Seit Monaten reihen sich dort Schlaglöcher aneinander, gestern habe ich mir
einen Reifen beschädigt. Ich bin sehr verärgert und bitte um umgehende Abhilfe.
"""

BESCHWERDE_DIENST = """\
Dienstaufsichtsbeschwerde gegen einen Mitarbeiter der Zulassungsstelle
Am 05.03.2026 wurde ich nach einer Wartezeit von drei Stunden ausgesprochen unfreundlich
behandelt. Ein solches Verhalten ist eine Zumutung fur jeden Burger.
"""

BESCHWERDE_OCR = """\
Beschwerde uber Larmbelastung
seit Wochen wird auf der Baustelle an der Kreisstraße bereits um 5 Uhr morgens gearbeitet.
Ich bin emport, dass trotz mehrerer Anrufe bis heute nichts geschehen ist.
"""

BEWERBUNG_VFA = """\
Laura Schmidt
Rosenweg 9
59457 Werl
Bewerbung als Verwaltungsfachangestellte (Kennziffer 2026-14)
Sehr geehrte Damen und Herren,
mit großem Interesse habe ich Ihre Stellenausschreibung gelesen und bewerbe mich hiermit
um die ausgeschriebene Stelle. Nach meiner Ausbildung bei der Stadt Werl ...
Anlagen: Lebenslauf, Zeugnisse
"""

BEWERBUNG_OCR = """\
Initiativbewerbung um einen Ausbildungsplatz
ich interessiere mich fur eine Ausbildung zum Fachinformatiker und mochte mich
bei Ihnen fur das Ausbildungsjahr 2027 bewerben. Meinen Lebenslauf und mein letztes
Schulzeugnis finden Sie in der Anlage.
"""

GERICHT_VG = """\
Verwaltungsgericht Arnsberg
Geschäftsstelle der 3. Kammer
Az.: 3 K 1234/26
In dem verwaltungsgerichtlichen Verfahren
Müller ./. Kreis Soest
wird Ihnen die Klageschrift vom 05.03.2026 mit der Bitte um Stellungnahme binnen eines Monats
übersandt.
Beglaubigt
Urkundsbeamtin der Geschäftsstelle
"""

GERICHT_LSG = """\
Landessozialgericht Nordrhein-Westfalen
L 7 AS 123/26
In dem Rechtsstreit
Schmitz, Klägerin und Berufungsklägerin
gegen
Kreis Soest, Beklagter und Berufungsbeklagter
Ladung zum Termin zur mündlichen Verhandlung am 21.04.2026, 10:30 Uhr, Saal 2.
"""

GERICHT_OCR = """\
AMTSGERICHT SOEST
- Familiengericht -
12 F 345/26
Beschluss
In der Familiensache wird das Jugendamt des Kreises Soest um Stellungnahme gebeten.
Die Vorsitzende
"""

ANFRAGE_IFG = """\
Antrag nach dem IFG NRW
Sehr geehrte Damen und Herren,
bitte senden Sie mir Folgendes zu: Kopien der Verträge zwischen dem Kreis und der Firma X
über die Abfallentsorgung seit 2020.
Dies ist ein Antrag auf Zugang zu amtlichen Informationen nach § 4
Informationsfreiheitsgesetz NRW.
"""

ANFRAGE_PRESSE = """\
Westfalenpost – Redaktion Soest
Presseanfrage: Sanierung der Kreisstraße K 12
Sehr geehrte Damen und Herren,
für einen Bericht bitte ich um Beantwortung folgender Fragen bis morgen, 12 Uhr
(Redaktionsschluss): 1. Wie hoch sind die Kosten? 2. Wann beginnen die Arbeiten?
"""

ANFRAGE_UIG = """\
Anfrage nach dem Umweltinformationsgesetz
ich bitte um Auskunft über die Messwerte der Luftqualität an der Messstation Soest-Nord
für das Jahr 2025 sowie um Übersendung der zugehörigen Berichte.
"""

WERBUNG_RABATT = """\
Exklusiv für Behörden: 20 % Rabatt auf alle Aktenvernichter!
Sehr geehrte Damen und Herren,
nur für kurze Zeit erhalten Sie unsere Profi-Geräte zum Vorteilspreis. Jetzt bestellen
unter 0800 123456 – solange der Vorrat reicht.
Wenn Sie keine Werbung mehr von uns erhalten möchten, genügt eine kurze Nachricht.
"""

WERBUNG_OCR = """\
Ihr kostenloses Probeabo der Fachzeitschrift Kommunalpraxis
Testen Sie jetzt 3 Ausgaben gratis und unverbindlich. Als Neukunde erhalten Sie
zusatzlich einen Gutschein uber 25 Euro fur unseren Online-Shop.
Abbestellen jederzeit moglich.
"""

RECHNUNG_MIT_MAHNGEBUEHR = """\
Gebäudereinigung Sauer GmbH · Lange Straße 8 · 59494 Soest
Rechnung Nr. 2026-0318
Sehr geehrte Damen und Herren,
für die Unterhaltsreinigung des Kreishauses im Februar 2026 berechnen wir Ihnen:
Nettobetrag 2.400,00 €, zzgl. 19 % USt 456,00 €, Gesamtbetrag 2.856,00 €.
Zahlbar innerhalb von 14 Tagen ohne Abzug. Bei Zahlungsverzug berechnen wir Mahngebühren
von 5,00 € je Mahnstufe.
"""

MAHNUNG_ERINNERUNG = """\
Elektro Vogt GmbH · Am Bahnhof 2 · 59494 Soest
Rechnungsnummer: 2026-0412
Erinnerung an unsere offene Rechnung
Sehr geehrte Damen und Herren,
für unsere Rechnung vom 02.02.2026 steht die Zahlung noch aus.
Ursprünglicher Betrag:          1.204,50 €
Bitte überweisen Sie den ausstehenden Betrag bis zum 20.03.2026.
IBAN DE89 3704 0044 0532 0130 00
"""

ANTRAG_OHNE_WORT = """\
Sehr geehrte Damen und Herren,
mein Bewohnerparkausweis für die Zone B läuft am 30.04.2026 ab. Ich bitte um Verlängerung
um ein weiteres Jahr. Die Gebühr überweise ich nach Erhalt des Bescheides.
"""

WIDERSPRUCH_MIT_ANTRAG = """\
Rechtsanwältin Dr. Weber
Ihr Az.: 50-WG-2026/88
Sehr geehrte Damen und Herren,
namens und in Vollmacht meiner Mandantin lege ich gegen den Bescheid vom 03.03.2026, mit
dem ihr Antrag auf Wohngeld vom 10.01.2026, Az. 50-WG-2026/88, abgelehnt wurde, Widerspruch
ein. Zugleich beantrage ich Akteneinsicht. Der Bescheid ist rechtswidrig, weil das
Einkommen der Tochter doppelt angerechnet wurde.
"""

BESCHWERDE_OHNE_WORT = """\
Betreff: Sperrmüll am Wanderparkplatz
Sehr geehrte Damen und Herren,
am Wanderparkplatz Eichholz wird seit Monaten immer wieder Sperrmüll abgeladen. Ich habe es
zweimal gemeldet, passiert ist nichts. Ich erwarte, dass der Müll endlich beseitigt wird.
"""

BESCHWERDE_SACHSTAND = """\
Sehr geehrte Damen und Herren,
seit dem 10.09.2025 warte ich auf einen Bescheid über meinen Antrag auf Elterngeld. Auf
meine Nachfragen wurde ich immer wieder vertröstet, eine Antwort habe ich bis heute nicht.
So kann es nicht weitergehen; ich bitte Sie, sich der Sache anzunehmen.
"""

ANFRAGE_IFG_ANTRAG = """\
Antrag auf Informationszugang nach dem Landestransparenzgesetz
Sehr geehrte Damen und Herren,
hiermit beantrage ich Zugang zu folgenden Informationen über die Wohngeldstelle:
1. Wie viele Anträge auf Wohngeld waren am 31.12.2025 unerledigt?
2. Wie viele Beschwerden über die Bearbeitungsdauer gab es 2025?
3. Wie viele Widersprüche wurden eingelegt?
"""

WERBUNG_OHNE_RABATT = """\
Bürowelt Krause KG
Sinzbach, im Mai 2026
Liebe Kundinnen und Kunden,
überzeugen Sie sich von unserem neuen Sortiment an Ordnern und Archivboxen.
- Kauf auf Rechnung für Behörden
- Lieferung frei Haus
Preise zzgl. MwSt. – Rufen Sie uns an, wir beraten Sie gerne!
Sie möchten keine Werbung mehr erhalten? Eine kurze Nachricht genügt.
Ihr Vertriebsteam
"""

SONSTIGES = """\
Schützenverein Soest-Süd e.V.
Sehr geehrter Herr Landrat,
zu unserem Schützenfest am ersten Juliwochenende laden wir Sie herzlich ein.
Wir würden uns freuen, Sie begrüßen zu dürfen.
"""


@pytest.mark.parametrize(
    ("text", "doc_type", "subject", "department"),
    [
        (RECHNUNG_STROM, "rechnung", None, "Kämmerei"),
        (RECHNUNG_OCR, "rechnung", None, "Kämmerei"),
        (RECHNUNG_HANDWERK, "rechnung", None, "Kämmerei"),
        (RECHNUNG_KNAPP, "rechnung", None, "Kämmerei"),
        (RECHNUNG_MIT_MAHNGEBUEHR, "rechnung", None, "Kämmerei"),
        (MAHNUNG_ERSTE, "mahnung", None, "Kämmerei"),
        (MAHNUNG_OCR, "mahnung", None, "Kämmerei"),
        (MAHNUNG_LETZTE, "mahnung", None, "Kämmerei"),
        (MAHNUNG_ERINNERUNG, "mahnung", None, "Kämmerei"),
        (ANTRAG_WOHNGELD, "antrag", "Wohngeld", "Sozialamt"),
        (ANTRAG_WOHNGELD_OCR, "antrag", "Wohngeld", "Sozialamt"),
        (ANTRAG_BAU, "antrag", "Baugenehmigung", "Bauordnungsamt"),
        (ANTRAG_BAU_OCR, "antrag", "Baugenehmigung", "Bauordnungsamt"),
        (ANTRAG_ELTERNGELD, "antrag", "Elterngeld", "Jugendamt"),
        (ANTRAG_ELTERNGELD_OCR, "antrag", "Elterngeld", "Jugendamt"),
        (ANTRAG_PARK, "antrag", "Parkausweis", "Straßenverkehrsamt"),
        (ANTRAG_PARK_OCR, "antrag", "Parkausweis", "Straßenverkehrsamt"),
        (ANTRAG_SONST, "antrag", None, "Bürgerservice"),
        (ANTRAG_OHNE_WORT, "antrag", "Parkausweis", "Straßenverkehrsamt"),
        (WIDERSPRUCH_BUERGER, "widerspruch", None, "Rechtsamt"),
        (WIDERSPRUCH_ANWALT, "widerspruch", None, "Rechtsamt"),
        (WIDERSPRUCH_OCR, "widerspruch", None, "Rechtsamt"),
        (WIDERSPRUCH_MIT_ANTRAG, "widerspruch", None, "Rechtsamt"),
        (BESCHWERDE_STRASSE, "beschwerde", None, "Bürgerservice"),
        (BESCHWERDE_DIENST, "beschwerde", None, "Bürgerservice"),
        (BESCHWERDE_OCR, "beschwerde", None, "Bürgerservice"),
        (BESCHWERDE_OHNE_WORT, "beschwerde", None, "Bürgerservice"),
        (BESCHWERDE_SACHSTAND, "beschwerde", None, "Bürgerservice"),
        (BEWERBUNG_VFA, "bewerbung", None, "Personalamt"),
        (BEWERBUNG_OCR, "bewerbung", None, "Personalamt"),
        (GERICHT_VG, "gericht", None, "Rechtsamt"),
        (GERICHT_LSG, "gericht", None, "Rechtsamt"),
        (GERICHT_OCR, "gericht", None, "Rechtsamt"),
        (ANFRAGE_IFG, "anfrage", None, "Pressestelle"),
        (ANFRAGE_PRESSE, "anfrage", None, "Pressestelle"),
        (ANFRAGE_UIG, "anfrage", None, "Pressestelle"),
        (ANFRAGE_IFG_ANTRAG, "anfrage", None, "Pressestelle"),
        (WERBUNG_RABATT, "werbung", None, "Poststelle"),
        (WERBUNG_OCR, "werbung", None, "Poststelle"),
        (WERBUNG_OHNE_RABATT, "werbung", None, "Poststelle"),
        (SONSTIGES, "sonstiges", None, "Poststelle"),
    ],
)
def test_classify_text_decides_type_subject_and_department(
    taxonomy: Taxonomy, text: str, doc_type: str, subject: str | None, department: str
) -> None:
    decided = classify_text(text, taxonomy)
    assert (decided.doc_type, decided.subject) == (doc_type, subject), decided.reasons
    assert taxonomy.department_for(decided.doc_type, decided.subject)[0] == department
    assert decided.classified_by == "rule"
    assert decided.reasons
    assert decided.reasons[0].startswith(f"{doc_type}")
    assert 0.0 <= decided.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\f", "Sehr geehrte Damen und Herren,\nanbei.\n"])
def test_classify_text_without_match_falls_back_with_the_fallback_confidence(
    taxonomy: Taxonomy, text: str
) -> None:
    decided = classify_text(text, taxonomy)
    assert decided.doc_type == "sonstiges"
    assert decided.subject is None
    assert decided.confidence == pytest.approx(taxonomy.scoring.fallback_confidence)
    assert decided.reasons == ("sonstiges: no rule matched (fallback)",)


def test_classify_text_below_min_score_falls_back_and_says_why(taxonomy: Taxonomy) -> None:
    decided = classify_text("Anbei der Lebenslauf meines Sohnes zur Kenntnis.\n", taxonomy)
    assert decided.doc_type == "sonstiges"
    assert "below min_score" in decided.reasons[0]
    assert 'bewerbung: any "Lebenslauf" (+1.5)' in decided.reasons


def test_classify_text_reasons_name_rule_evidence_and_weight(taxonomy: Taxonomy) -> None:
    text = "Rechnung\nRechnungsnurnmer 2026/0815\nBetrag zahlbar innerhalb 14 Tagen\n"
    decided = classify_text(text, taxonomy)
    assert decided.reasons == (
        'rechnung: fuzzy "Rechnungsnummer" ~ "rechnungsnurnmer" (0.90) (+3.0)',
        'rechnung: any "*rechnung" = "rechnung" in first 600 chars (+2.0)',
        'rechnung: regex matched "zahlbar innerhalb" (+1.5)',
        "scores: rechnung 6.5",
    )


def test_classify_text_fills_fields(taxonomy: Taxonomy) -> None:
    fields = classify_text(RECHNUNG_STROM, taxonomy).fields
    assert fields.invoice_number == "RE-2026-04711"
    assert fields.iban == "DE89370400440532013000"
    assert fields.amount_total == pytest.approx(3836.56)
    assert fields.date == dt.date(2026, 3, 4)


def test_classify_text_confidence_is_higher_for_a_clear_letter(taxonomy: Taxonomy) -> None:
    clear = classify_text(RECHNUNG_STROM, taxonomy).confidence
    thin = classify_text("Rechnung\nBitte zahlen Sie ohne Abzug.\nDanke.\n", taxonomy).confidence
    assert clear > 0.8
    assert thin < clear


@pytest.mark.parametrize(
    ("best", "runner_up", "expected"),
    [
        (0.0, 0.0, 0.3),  # nothing matched: the fallback confidence
        (3.0, 0.0, 0.632),  # 1 - e^-1, no competitor
        (3.0, 3.0, 0.316),  # a tie halves it
        (12.0, 3.0, 0.859),  # (1 - e^-4) * (0.5 + 0.5 * 0.75)
    ],
)
def test_rule_confidence_formula_without_a_calibration(
    best: float, runner_up: float, expected: float
) -> None:
    assert rule_confidence(best, runner_up, Scoring()) == pytest.approx(expected, abs=1e-3)


CALIBRATION = RuleCalibration(
    intercept=-3.0, score_weight=1.0, lead_weight=0.5, ceiling=0.99, letters=100, fitted_on="test"
)


@pytest.mark.parametrize(
    ("best", "runner_up", "expected"),
    [
        (0.0, 0.0, 0.9),  # nothing matched: the fallback confidence
        (3.0, 3.0, 0.5),  # z = -3 + 3: a tie
        (3.0, 1.0, 0.731),  # z = 1
        (4.0, 0.0, 0.953),  # z = -3 + 4 + 2
        (20.0, 0.0, 0.99),  # the ceiling
        (-1.0, 0.0, 0.9),  # only counter-evidence: no type
    ],
)
def test_rule_confidence_with_a_calibration(best: float, runner_up: float, expected: float) -> None:
    scoring = Scoring(fallback_confidence=0.9, calibration=CALIBRATION)
    assert rule_confidence(best, runner_up, scoring) == pytest.approx(expected, abs=1e-3)


def test_the_calibrated_confidence_is_monotone_in_score_and_lead(taxonomy: Taxonomy) -> None:
    scoring = taxonomy.scoring
    assert scoring.calibration is not None
    grid = [step / 2 for step in range(4, 61)]  # scores 2.0 .. 30.0 by 0.5
    for runner_up in (0.0, 1.0, 3.0):
        by_score = [rule_confidence(best, runner_up, scoring) for best in grid if best > runner_up]
        assert by_score == sorted(by_score), runner_up
    by_lead = [rule_confidence(10.0, 10.0 - lead, scoring) for lead in range(11)]
    assert by_lead == sorted(by_lead)
    assert all(0.0 < value <= scoring.calibration.ceiling for value in by_score + by_lead)


def test_the_calibrated_confidence_decides_clear_letters_and_doubts_thin_ones(
    taxonomy: Taxonomy,
) -> None:
    # The packaged calibration (fitted on the generator's train split): a letter with three
    # specific rules is decided, a single weak match just above min_score is not.
    assert rule_confidence(7.5, 0.0, taxonomy.scoring) > 0.95
    assert rule_confidence(2.5, 1.0, taxonomy.scoring) < 0.8


@pytest.mark.parametrize(
    ("raw", "normal", "folded"),
    [
        ("Gebühr", "gebuehr", "gebuhr"),
        ("GEBUEHR", "gebuehr", "gebuhr"),
        ("Gebuhr", "gebuhr", "gebuhr"),
        ("Straße", "strasse", "strasse"),
        ("Rechnungs-\nnummer", "rechnungsnummer", "rechnungsnummer"),
        ("Bau- und Planungsamt", "bau- und planungsamt", "bau- und planungsamt"),
        ("Café", "cafe", "cafe"),
    ],
)
def test_normalise_and_fold_are_umlaut_tolerant(raw: str, normal: str, folded: str) -> None:
    assert normalise(raw) == normal
    assert fold(normalise(raw)) == folded


@pytest.mark.parametrize(
    ("word", "tokens", "found"),
    [
        ("Rechnungsnummer", ["rechnungsnurnmer"], "rechnungsnurnmer"),
        ("Zahlungserinnerung", ["zahlungserinnenmg"], "zahlungserinnenmg"),
        ("Zahlungserinnerung", ["zahlungsbedingungen"], None),
        ("Widerspruch", ["wlderspruch"], "wlderspruch"),
        ("Presseanfrage", ["presse", "anfrage"], None),
        (
            "Landespressegesetz",
            ["landespresse", "gesetz", "landespressegesetz"],
            "landespressegesetz",
        ),
    ],
)
def test_fuzzy_find_tolerates_single_ocr_errors(
    word: str, tokens: list[str], found: str | None
) -> None:
    hit = fuzzy_find(word, tokens, 0.85)
    assert (hit[0] if hit else None) == found


# --- fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        (RECHNUNG_STROM, "Stadtwerke Musterstadt GmbH"),
        (RECHNUNG_OCR, "Buroausstattung Meier KG"),
        (MAHNUNG_ERSTE, "Autohaus Berger GmbH"),
        (ANTRAG_WOHNGELD, "Erika Musterfrau"),
        (WIDERSPRUCH_BUERGER, "Max Mustermann"),
        (WIDERSPRUCH_ANWALT, "RECHTSANWALTE SCHULZ & KOLLEGEN"),
        (BEWERBUNG_VFA, "Laura Schmidt"),
        (GERICHT_VG, "Verwaltungsgericht Arnsberg"),
        (ANFRAGE_PRESSE, "Westfalenpost – Redaktion Soest"),
        (
            "Absender: Hans Meier, Dorfstraße 1, 59505 Bad Sassendorf\n\nSehr geehrte ...\n",
            "Hans Meier",
        ),
        ("Sehr geehrte Damen und Herren,\nanbei die Unterlagen.\n", None),
    ],
)
def test_extract_sender(text: str, sender: str | None) -> None:
    assert extract_sender(text) == sender


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Soest, 12.03.2026\n", dt.date(2026, 3, 12)),
        ("Werl, den 12.3.26\n", dt.date(2026, 3, 12)),
        ("Lippstadt, 12. März 2026\n", dt.date(2026, 3, 12)),
        ("Lippstadt, 12. Marz 2026\n", dt.date(2026, 3, 12)),
        ("Arnsberg, den 1. Dezember 2025\n", dt.date(2025, 12, 1)),
        ("Datum: 2026-03-12\n", dt.date(2026, 3, 12)),
        ("Rechnungsdatum: 05.01.2026\nzahlbar bis 19.01.2026\n", dt.date(2026, 1, 5)),
        ("Bitte zahlen Sie bis zum 30.04.2026.\nFällig am 30.04.2026\n", None),
        ("Leistungszeitraum 01.02.2026 - 28.02.2026\n", None),
        ("Ihr Bescheid vom 02.03.2026\n\nSoest, 12.03.2026\n", dt.date(2026, 3, 12)),
        ("Gegen den Bescheid vom 02.03.2026 lege ich Widerspruch ein.\n", None),
        ("Datum: 31.02.2026\n", None),
        (MAHNUNG_ERSTE, dt.date(2026, 3, 16)),
        (ANTRAG_WOHNGELD, dt.date(2026, 3, 10)),
        (RECHNUNG_OCR, dt.date(2026, 3, 12)),
        (ANTRAG_ELTERNGELD, None),  # only a birthday
    ],
)
def test_extract_date(text: str, date: dt.date | None) -> None:
    assert extract_date(text) == date


@pytest.mark.parametrize(
    ("text", "aktenzeichen"),
    [
        ("Az.: 32.1-2026/0815\n", "32.1-2026/0815"),
        ("Aktenzeichen 63-BG-2026-00123\n", "63-BG-2026-00123"),
        ("Ihr Zeichen: 50.2-WG-2026/117   Unser Zeichen: ms-4711\n", "50.2-WG-2026/117"),
        ("Unser Zeichen: ms-4711\nIhr Aktenzeichen: 32.1-2026/0815\n", "32.1-2026/0815"),
        ("Unser Zeichen: 2026/445\n", "2026/445"),
        ("Geschäftszeichen: II/3-123.45\n", "II/3-123.45"),
        ("Geschaeftszeichen: 50.2-WG-2026/117\n", "50.2-WG-2026/117"),
        ("Aktenzeichen: 3 K 1234/26\n", "3 K 1234/26"),
        ("Geschäftsnummer: 26-1234567-0-1\n", "26-1234567-0-1"),
        ("Az. 12 C 345/26\n", "12 C 345/26"),
        (GERICHT_LSG, "L 7 AS 123/26"),
        ("Ihr Zeichen, Ihre Nachricht vom\nUnser Zeichen: ms\n", None),
        ("Keine Nummer hier.\n", None),
        (GERICHT_VG, "3 K 1234/26"),
        (WIDERSPRUCH_ANWALT, "63-BG-2026-00123"),
    ],
)
def test_extract_aktenzeichen(text: str, aktenzeichen: str | None) -> None:
    assert extract_aktenzeichen(text) == aktenzeichen


@pytest.mark.parametrize(
    ("text", "iban"),
    [
        ("IBAN: DE89 3704 0044 0532 0130 00\n", "DE89370400440532013000"),
        ("IBAN DE89370400440532013000 BIC COBADEFFXXX\n", "DE89370400440532013000"),
        ("iban de89 3704 0044 0532 0130 00\n", "DE89370400440532013000"),
        ("IBAN: DE89 37O4 0044 0532 0130 00\n", "DE89370400440532013000"),  # OCR read 0 as O
        ("IBAN: AT61 1904 3002 3457 3201\n", "AT611904300234573201"),
        ("IBAN: GB29 NWBK 6016 1331 9268 19\n", "GB29NWBK60161331926819"),
        ("IBAN: DE88 3704 0044 0532 0130 00\n", None),  # wrong check digits
        ("IBAN: DE89 3704 0044 0532 0130 01\n", None),  # wrong account digit
        ("IBAN: DE89 3704 0044 0532 0130\n", None),  # too short
        ("IBAN: DE89 37O4 0044 0532 0130 01\n", None),  # O→0 does not make it valid
        ("Kein Konto angegeben.\n", None),
    ],
)
def test_extract_iban(text: str, iban: str | None) -> None:
    assert extract_iban(text) == iban


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("DE89370400440532013001", False),
        ("XX89370400440532013000", False),
        ("DE8937040044053201300", False),
    ],
)
def test_iban_is_valid(iban: str, valid: bool) -> None:
    assert iban_is_valid(iban) is valid


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Gesamtbetrag: 1.234,56 €\n", 1234.56),
        ("Rechnungsbetrag EUR 1.234,56\n", 1234.56),
        ("zu zahlen: 1234,56 EUR\n", 1234.56),
        ("Summe 99,90 Euro\n", 99.90),
        ("Endbetrag € 12.345.678,90\n", 12345678.90),
        ("Gesamtbetrag\n3.836,56 €\n", 3836.56),
        ("Offener Betrag 250,- €\n", 250.0),
        ("Nettobetrag 100,00 €\nMwSt 19,00 €\nGesamtbetrag 119,00 €\nSkonto 2,38 €\n", 119.0),
        ("Position 1 12,00 €\nPosition 2 30,50 €\n", 30.5),
        ("Bescheid vom 12.03.2026, Aktenzeichen 2026/117\n", None),
        (RECHNUNG_OCR, 4998.0),
        (MAHNUNG_ERSTE, 850.30),
        (MAHNUNG_LETZTE, 1203.40),
        (RECHNUNG_HANDWERK, 2201.50),
    ],
)
def test_extract_amount(text: str, amount: float | None) -> None:
    assert extract_amount(text) == (pytest.approx(amount) if amount is not None else None)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Rechnungsnummer: RE-2026-04711\n", "RE-2026-04711"),
        ("Rechnungs-Nr.: 2026/0815\n", "2026/0815"),
        ("Rechnung Nr. 4711 vom 01.02.2026\n", "4711"),
        ("Rechnungsnurnmer 2026/0815\n", "2026/0815"),
        ("Rg.-Nr. 88123\n", "88123"),
        ("Bitte geben Sie die Rechnungsnummer an.\n", None),
        ("Rechnung noch offen\n", None),
    ],
)
def test_extract_invoice_number(text: str, number: str | None) -> None:
    assert extract_invoice_number(text) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Kundennummer: 100234\n", "100234"),
        ("Kunden-Nr. K-5531\n", "K-5531"),
        ("Kd.-Nr.: 77 Rechnungsnummer 1\n", "77"),
        ("Ihre Kundennummer finden Sie oben.\n", None),
    ],
)
def test_extract_customer_number(text: str, number: str | None) -> None:
    assert extract_customer_number(text) == number


def test_extract_fields_on_a_mahnung() -> None:
    fields = extract_fields(MAHNUNG_ERSTE)
    assert fields.sender == "Autohaus Berger GmbH"
    assert fields.date == dt.date(2026, 3, 16)
    assert fields.invoice_number == "2026-117"
    assert fields.amount_total == pytest.approx(850.30)
    assert fields.iban is None


# --- field confidence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iban", "confidence"),
    [
        ("IBAN: DE89 3704 0044 0532 0130 00\n", "DE89370400440532013000", 0.99),
        ("Konto DE89 3704 0044 0532 0130 00\n", "DE89370400440532013000", 0.9),
        ("IBAN: DE89 37O4 0044 0532 0130 00\n", "DE89370400440532013000", 0.891),  # O read for 0
        (
            "auf mein Konto (IBAN DE89 3704 0044 0532\n0130 00) zu überweisen",
            "DE89370400440532013000",
            0.99,
        ),
        (
            "IBAN DE89 3704 0044 0532 0130 00\nIBAN AT61 1904 3002 3457 3201\n",
            "DE89370400440532013000",
            0.842,  # another valid IBAN: which account is meant is less sure
        ),
        ("IBAN: DE88 3704 0044 0532 0130 00\n", None, None),  # checksum fails
        ("IBAN: DE89 3704 0044 0532 0130 0\n", None, None),  # one digit short
    ],
)
def test_find_iban_confidence(text: str, iban: str | None, confidence: float | None) -> None:
    found = find_iban(text)
    assert (found[0] if found else None) == iban
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


@pytest.mark.parametrize(
    ("text", "date", "confidence"),
    [
        ("Datum: 13.05.2026\n", dt.date(2026, 5, 13), 0.95),
        ("Lindenau, den 13. Mai 2026\n", dt.date(2026, 5, 13), 0.95),
        ("Lindenau, 13.5.26\n", dt.date(2026, 5, 13), 0.902),  # a two-digit year
        ("\n13.05.2026\n", dt.date(2026, 5, 13), 0.85),
        ("13. Mai 2026\n", dt.date(2026, 5, 13), 0.85),
        ("wir haben am 13.05.2026 telefoniert.\n", dt.date(2026, 5, 13), 0.5),
        ("13.05.2026\n14.05.2026\n", dt.date(2026, 5, 13), 0.722),  # a rival nearly as likely
        ("Fällig am 30.05.2026\n", None, None),
    ],
)
def test_find_date_confidence(text: str, date: dt.date | None, confidence: float | None) -> None:
    found = find_date(text)
    assert (found[0] if found else None) == date
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


@pytest.mark.parametrize(
    ("text", "aktenzeichen", "confidence"),
    [
        ("Aktenzeichen: 3 K 1234/26\nIhr Zeichen: 30-RA-2026-01795\n", "3 K 1234/26", 0.95),
        ("Az.: 12 C 345/26\n", "12 C 345/26", 0.95),
        ("Ihr Zeichen: 32.1-2026/0815\n", "32.1-2026/0815", 0.9),
        ("Aktenzeichen: 63-BG-2026-00123\n", "63-BG-2026-00123", 0.9),
        ("Ihre Bestellung: 65.3-VG-2026/395\n", "65.3-VG-2026/395", 0.9),
        ("Bestellung: 4711/26\n", None, None),  # a seller's own order number is no file
        ("in der Sache L 7 AS 123/26 wird mitgeteilt\n", "L 7 AS 123/26", 0.75),
        ("Unser Zeichen: ms-4711\n", "ms-4711", 0.6),
        ("Az.: 32.1-2026/0815\nAz.: 32.1-2026/0999\n", "32.1-2026/0815", 0.765),
    ],
)
def test_find_aktenzeichen_confidence(
    text: str, aktenzeichen: str | None, confidence: float | None
) -> None:
    found = find_aktenzeichen(text)
    assert (found[0] if found else None) == aktenzeichen
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


@pytest.mark.parametrize(
    ("text", "amount", "confidence"),
    [
        ("Gesamtbetrag: 1.234,56 €\n", 1234.56, 0.95),
        ("Rechnungsbetrag 12.345.678,90 EUR\n", 12345678.90, 0.95),
        ("Summe 99,90 Euro\n", 99.90, 0.75),
        ("Miete 1.234,56 € im Monat\n", 1234.56, 0.4),  # no total label: the largest amount
        ("Zwischensumme 100,00 €\nGesamtbetrag 119,00 €\n", 119.0, 0.95),
        ("Gesamtbetrag 119,00 €\nGesamtbetrag 238,00 €\n", 238.0, 0.807),  # two totals disagree
        ("Aktenzeichen 2026/117\n", None, None),
    ],
)
def test_find_amount_confidence(text: str, amount: float | None, confidence: float | None) -> None:
    found = find_amount(text)
    assert (found[0] if found else None) == (pytest.approx(amount) if amount else None)
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


@pytest.mark.parametrize(
    ("text", "number", "confidence"),
    [
        ("Rechnungsnummer: RG 2026/5260\n", "RG 2026/5260", 0.9),
        ("Rechnungs-Nr.: 2026/0815\n", "2026/0815", 0.9),
        ("Reinigungsleistungen – Rechnung R2606-2430\n", "R2606-2430", 0.7),
        ("Rechnung 2026-117 vom 01.02.2026\n", "2026-117", 0.7),
        ("Rechnung vom 12.03.2026\n", None, None),
        ("Rechnung 1.234,56 €\n", None, None),
        ("Rechnungsnummer 4711\nRechnungsnummer 4712\n", "4711", 0.765),
    ],
)
def test_find_invoice_number_confidence(
    text: str, number: str | None, confidence: float | None
) -> None:
    found = find_invoice_number(text)
    assert (found[0] if found else None) == number
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


@pytest.mark.parametrize(
    ("text", "sender", "confidence"),
    [
        ("Absender: Hans Meier, Dorfstraße 1, 59505 Bad Sassendorf\n", "Hans Meier", 0.9),
        (
            "Rhein-Aue-Zeitung – Redaktion · Poststraße 43 · 56179 Oberhelden\n",
            "Rhein-Aue-Zeitung – Redaktion",
            0.85,
        ),
        ("Anna Weber\nLindenstraße 4\n56410 Lindenau\n", "Anna Weber", 0.8),
        ("Stadtwerke Lindenau GmbH\nIhr Energieversorger\n", "Stadtwerke Lindenau GmbH", 0.75),
        ("Sehr geehrte Damen und Herren,\n", None, None),
    ],
)
def test_find_sender_confidence(text: str, sender: str | None, confidence: float | None) -> None:
    found = find_sender(text)
    assert (found[0] if found else None) == sender
    assert (found[1] if found else None) == (pytest.approx(confidence) if confidence else None)


def test_extract_fields_gives_a_confidence_per_field_found() -> None:
    fields = extract_fields(MAHNUNG_ERSTE)
    found = {name for name in Fields.names() if getattr(fields, name) is not None}
    assert set(fields.confidence) == found
    assert all(0.0 < value <= 1.0 for value in fields.confidence.values())
    assert fields.model_dump(mode="json")["confidence"] == fields.confidence


@pytest.mark.parametrize("confidence", [{"iban": 1.5}, {"colour": 0.5}])
def test_fields_reject_a_bad_confidence(confidence: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Fields(confidence=confidence)


@pytest.mark.parametrize("split", [None, "train", "test"])
def test_fields_match_generated_letters(split: Split | None) -> None:
    """IBAN, total, Aktenzeichen and printed date match the ground truth of sample letters."""
    hits: dict[str, list[bool]] = {"iban": [], "amount_total": [], "aktenzeichen": [], "date": []}
    for doc_type in DOC_TYPES:
        for seed in range(15):
            truth = compose(doc_type, 7000 + seed, split=split)
            text = "\f".join(truth.pages)
            fields = extract_fields(text)
            for name in ("iban", "aktenzeichen"):
                if getattr(truth, name) is not None:
                    hits[name].append(getattr(fields, name) == getattr(truth, name))
            if truth.amount_total is not None:
                hits["amount_total"].append(fields.amount_total == truth.amount_total)
            day = dt.date.fromisoformat(truth.date or "")
            if samples._de(day) in text or samples._de_long(day) in text:  # not "im Mai 2026"
                hits["date"].append(fields.date == day)
    rates = {name: sum(found) / len(found) for name, found in hits.items()}
    print(split, {name: round(rate, 3) for name, rate in rates.items()})
    assert all(rate >= 0.95 for rate in rates.values()), rates

KALLA = (
    "!kalla 2026-12-03 18:00 distans\nMotivering: smittspridning i kommunen\n1. Budget 2027\n"
    "2. Anställning av förvaltningschef [personuppgifter]"
)


async def test_kalla_and_open(room):
    answer = await room.ask("anna", KALLA)
    assert answer.startswith("KALLELSE"), answer
    answer = await room.ask("anna", "!öppna")
    assert "UPPROP" in answer
    assert await room.ask("bo", "!närvarande") == "✅"

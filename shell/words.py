"""What the shell itself says in the room: about a message it cannot act on, or its own faults."""

EDITED = (
    "✏️ Ett ändrat kommando verkställs inte, och det som redan verkställts står kvar i protokollet. "
    "Skriv ett nytt kommando i stället."
)
UNDECRYPTABLE = (
    "⚠️ Jag kunde inte dekryptera ditt meddelande, så om det var ett kommando har det inte verkställts. "
    "Skriv det igen; hjälper inte det, verifiera din session eller kontakta IT."
)
NOTES = {"edited": EDITED, "undecryptable": UNDECRYPTABLE}
SLOW_DOWN = "⏳ Du skickar kommandon för snabbt. Vänta några sekunder; kommandona verkställdes inte."
NOT_RECORDED = (
    "⚠️ Kommandot kunde inte sparas och har INTE verkställts (ett fel i botens lagring). "
    "Inget har ändrats. Försök igen om en stund; kvarstår felet, kontakta IT."
)
# After "not recorded", when the store shows that the command had been applied after all (its
# transaction committed but the answer was lost, or it was applied before a restart re-read it).
APPLIED_AFTER_ALL = (
    "ℹ️ Rättelse: kommandot var sparat och verkställt trots allt, så meddelandet om att det inte "
    "sparats gäller inte. Skicka det inte igen."
)
TOO_BIG = "Protokollet är för stort för ett meddelande och finns i sin helhet i den bifogade filen."

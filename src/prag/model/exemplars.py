"""Few-shot chain-of-thought exemplars, written for prag (not taken from any benchmark): real, checkable
facts, one question per type the dataset asks, each ending with "So the answer is …"."""

from __future__ import annotations

from prag.types import QAPair

HOTPOTQA = (
    # bridge
    QAPair(
        "Which river flows through the capital of Hungary?",
        "The capital of Hungary is Budapest. The river that flows through Budapest is the Danube. So the answer is the Danube.",
    ),
    # comparison
    QAPair(
        "Which was founded first, Harvard University or Yale University?",
        "Harvard University was founded in 1636. Yale University was founded in 1701. 1636 is earlier than 1701. "
        "So the answer is Harvard University.",
    ),
    # comparison, yes/no
    QAPair(
        "Are Lake Geneva and Lake Constance both in Switzerland?",
        "Lake Geneva lies in Switzerland and France. Lake Constance lies in Switzerland, Germany and Austria. "
        "Both touch Switzerland. So the answer is yes.",
    ),
)

TWO_WIKI = (
    # compositional
    QAPair(
        "Where was the director of film Jaws born?",
        "The film Jaws was directed by Steven Spielberg. Steven Spielberg was born in Cincinnati. So the answer is Cincinnati.",
    ),
    # comparison
    QAPair(
        "Which film came out first, Casablanca or Citizen Kane?",
        "Casablanca came out in 1942. Citizen Kane came out in 1941. So the answer is Citizen Kane.",
    ),
    # inference
    QAPair(
        "Who is the paternal grandfather of Elizabeth II?",
        "The father of Elizabeth II is George VI. The father of George VI is George V. So the answer is George V.",
    ),
    # bridge comparison
    QAPair(
        "Which film has the director who was born earlier, Psycho or Jaws?",
        "Psycho was directed by Alfred Hitchcock, who was born in 1899. Jaws was directed by Steven Spielberg, "
        "who was born in 1946. So the answer is Psycho.",
    ),
)

MUSIQUE = (
    QAPair(
        "What is the currency of the country where the Eiffel Tower is located?",
        "The Eiffel Tower is in France. The currency of France is the euro. So the answer is the euro.",
    ),
    QAPair(
        "When was the co-founder of the company that makes the iPhone born?",
        "The iPhone is made by Apple. Apple was co-founded by Steve Jobs. Steve Jobs was born on February 24, 1955. "
        "So the answer is February 24, 1955.",
    ),
    QAPair(
        "Who is the spouse of the singer of the song Imagine?",
        "The song Imagine was sung by John Lennon. John Lennon's spouse was Yoko Ono. So the answer is Yoko Ono.",
    ),
)

EXEMPLARS = {"hotpotqa": HOTPOTQA, "2wikimultihopqa": TWO_WIKI, "musique": MUSIQUE}

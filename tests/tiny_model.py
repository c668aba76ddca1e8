"""A tiny random Llama with a tokenizer built in code, so the unit tier starts in seconds.

The real default model (SmolLM2-135M) has to be converted from its GGUF before its tokenizer can be
read, which would make every unit test wait for that conversion. The unit tests only need something
shaped like it: a Llama that loads from a Hugging Face folder, and a fast byte-level BPE tokenizer with
SmolLM2's special tokens, ids and ChatML template. Both are made here, offline and deterministically.
Nothing here imports prag, so the fixture keeps working while `src/` changes.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

END_OF_TEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [END_OF_TEXT, IM_START, IM_END]
"""In SmolLM2's order, so they get its ids 0, 1 and 2."""

VOCAB_SIZE = 1024

SYSTEM_PROMPT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

# SmolLM2's ChatML template: a default system turn unless the messages bring their own.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\n" + SYSTEM_PROMPT + "<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# The kind of text the unit tests push through the tokenizer: prag's prompt wording, questions with
# short answers, and short factual passages. It only shapes the merges; byte-level BPE encodes any text.
CORPUS = [
    SYSTEM_PROMPT,
    "You should answer the question by referring to the knowledge provided below and integrating your own knowledge.",
    "Answer the question by reasoning step by step. Use the passages below when there are any, together with "
    'your own knowledge, and end with "So the answer is" and a short answer, as the examples do.',
    "Rewrite the following passage in your own words. Keep every name, place, date and number exactly as it is.",
    "Write questions about the passage, each with a short answer copied from the passage.",
    "Passage 1: The Harlow Bridge opened in 1902. It was designed by Mina Castell and crosses the Dell river.",
    "Passage 2: It is 210 metres long.",
    "Passages:\nExamples:\nQuestion: When did the Harlow Bridge open?\nAnswer: It opened in 1902. So the answer is 1902.",
    "Q: Who designed the Harlow Bridge?\nA: Mina Castell\nQ: How long is the Harlow Bridge?\nA: 210 metres",
    "The answer is Mina Castell. The answer is yes. The answer is no.",
    "Velmora is a town on the Arn River. It was founded in 1843 by Aldric Fenn, a salt merchant.",
    "Quillon Dynamics builds clockwork pumps. Its chief executive is Odile Varga and it is based in Tarsk.",
    "Tashkel Brevik was an engineer born in 1851. He designed the Velmora Clock Tower, which is 64 metres tall.",
    "Which river flows through the capital of Hungary? The river that flows through Budapest is the Danube.",
    "Which was founded first, Harvard University or Yale University? 1636 is earlier than 1701.",
    "Where was the director of the film born? The film was directed by a director who was born in a city.",
    "Who is the spouse of the singer of the song? What is the currency of the country where the tower is located?",
    "Name a colour. The sky is blue, the grass is green and the sun is yellow.",
    "A much longer question, to pad the other row? The quick brown fox jumps over the lazy dog.",
    "She said that the weather would be fine tomorrow, so they planned a walk along the river to the old mill.",
    "In the morning the town market opens early, and traders sell bread, fish, cheese and fruit until noon.",
    "The museum holds paintings, maps and letters from the nineteenth century, when the railway first arrived.",
    "Hello! How are you today? I am well, thank you, and I hope that you are well too.",
    "Scientists measured the temperature of the lake every hour for three years and published their results.",
    "The company was started by two brothers in a small workshop and now employs thousands of people worldwide.",
    "During the war the castle was used as a hospital; afterwards it became a school for girls.",
    "Football, tennis and swimming are popular sports, while chess remains a favourite game in winter.",
    "The novel tells the story of a young woman who leaves her village to study music in the capital.",
    "Mountains cover most of the northern province, and its highest peak is often hidden in cloud.",
    "He played the violin in the national orchestra before he became a teacher and a composer of songs.",
    "Please write your name, address and telephone number clearly on the form before you sign it.",
    "The election was held in March, and the new government promised lower taxes and better roads.",
]


def save_tiny_model(folder: Path) -> Path:
    """Writes config, safetensors weights and tokenizer to `folder`, loadable with the Auto classes."""
    folder = Path(folder)
    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    LlamaForCausalLM(tiny_config(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tokenizer() -> PreTrainedTokenizerFast:
    """SmolLM2's choices as its converted GGUF has them: bos `<|im_start|>`, eos and pad `<|im_end|>`,
    unk `<|endoftext|>`, no special tokens added on encoding, and a ChatML chat template."""
    return PreTrainedTokenizerFast(
        tokenizer_object=_trained_bpe(),
        bos_token=IM_START,
        eos_token=IM_END,
        pad_token=IM_END,
        unk_token=END_OF_TEXT,
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,  # decoding must give back the exact text, spaces included
    )


def tiny_config(tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _trained_bpe() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    # Digits one by one, as SmolLM2 splits numbers, so code that rejoins them (DRAGIN) sees the same.
    # No ByteLevel post-processor: like SmolLM2's, offsets keep the space a token carries before its word.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        # All 256 bytes in the vocabulary, so any unicode text encodes without an unknown token.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    return tokenizer

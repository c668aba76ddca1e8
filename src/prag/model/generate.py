"""Chat formatting, tokenisation for training, and batched generation with per-sequence adapter sets."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor
from transformers import DynamicCache, StoppingCriteria, StoppingCriteriaList

from prag.lora import LoRAPlug
from prag.lora.layer import Factors
from prag.model.loader import LoadedModel


@dataclass
class ScoredText:
    """A greedy continuation with, per generated token, what active-retrieval methods judge it by."""

    text: str
    pieces: list[str]
    """Each token's text; they concatenate to `text`."""
    probs: list[float]
    """Probability the model gave the token it chose."""
    entropies: list[float]
    """Entropy (nats) of the distribution each token was drawn from."""
    attention: Tensor | None = None
    """(tokens, positions): the last layer's attention, averaged over heads, of each generated token
    over the row's unpadded prompt and the tokens before it. Row j is token j's own query, which the
    model computes one step after choosing it, so the last token has no row (zeros)."""
    prompt_length: int = 0
    """Unpadded prompt tokens: attention column `prompt_length + j` is generated token j."""


@dataclass(frozen=True)
class TrainingSequence:
    input_ids: list[int]
    in_loss: list[bool]
    """Per token: is predicting it part of the training loss?"""


class Generator:
    """The loaded model with LoRA layers injected; base weights stay frozen and unchanged."""

    def __init__(self, loaded: LoadedModel, target_modules: tuple[str, ...]):
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.plug = LoRAPlug(self.model, target_modules)
        self.stop_ids = self._stop_token_ids()
        self.generated_tokens = 0
        """Tokens generated so far (up to each sequence's stop), for throughput figures."""

    def chat_prompt(self, user: str, assistant_prefix: str = "") -> str:
        messages = [{"role": "user", "content": user}]
        prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return prompt + assistant_prefix

    def training_sequence(
        self, user: str, assistant: str, loss_on: str, passages: list[str], end: bool = True
    ) -> TrainingSequence:
        """A chat exchange tokenised as at inference. `loss_on`: `all` tokens, the `answer` turn, or the
        `content` (the passages and the answer, not the chat template, instruction and question).
        `end`: the answer is closed by the end-of-turn token."""
        prompt = self.chat_prompt(user)
        text = prompt + assistant
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        spans = [(0, len(text))] if loss_on == "all" else [(len(prompt), len(text))]
        if loss_on == "content":
            starts = [prompt.find(p) for p in passages]
            spans += [(start, start + len(p)) for start, p in zip(starts, passages) if start >= 0]
        in_loss = [any(a < hi and b > lo for lo, hi in spans) for a, b in encoded["offset_mapping"]]
        stop = self.stop_ids[:1] if end else []
        return TrainingSequence(encoded["input_ids"] + stop, in_loss + [True] * len(stop))

    def plain_sequence(self, text: str) -> TrainingSequence:
        """Language modelling on raw text, every token in the loss."""
        ids = self._ids(text) + self.stop_ids[:1]
        return TrainingSequence(ids, [True] * len(ids))

    @torch.inference_mode()
    def generate(
        self,
        prompts: list[str],
        max_new_tokens: int,
        factors: Factors | None = None,
        temperature: float = 0.0,
        seed: int = 0,
        done: Callable[[str], bool] | None = None,
    ) -> list[str]:
        """Greedy unless temperature > 0; `factors` may carry a different adapter set per prompt.
        `done(text so far)` ends a sequence early, e.g. once it holds enough QA pairs."""
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        sampling = {"temperature": temperature, "top_p": 0.95} if temperature > 0 else {}
        if sampling:
            torch.manual_seed(seed)
        prompt_length = batch["input_ids"].shape[1]
        stopping = StoppingCriteriaList([_TextDone(self.tokenizer, prompt_length, done)]) if done else None
        with self.plug.plugged(factors):
            out = self.model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                eos_token_id=self.stop_ids,
                pad_token_id=self.tokenizer.pad_token_id,
                do_sample=bool(sampling),
                stopping_criteria=stopping,
                **sampling,
            )
        new_tokens = out[:, prompt_length:]
        self.generated_tokens += sum(self._length_to_stop(row) for row in new_tokens.tolist())
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in new_tokens]

    @torch.inference_mode()
    def generate_scored(
        self,
        prompts: list[str],
        max_new_tokens: int,
        done: Callable[[str], bool] | None = None,
        with_attention: bool = False,
    ) -> list[ScoredText]:
        """Greedy generation that also returns each token's probability and entropy, and optionally the
        last layer's attention (computed with eager attention, the only kind that exposes weights)."""
        self.tokenizer.padding_side = "left"
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        prompt_length = batch["input_ids"].shape[1]
        stopping = StoppingCriteriaList([_TextDone(self.tokenizer, prompt_length, done)]) if done else None
        captured: list[Tensor] = []
        with self._last_layer_attention(captured) if with_attention else nullcontext():
            out = self.model.generate(
                **batch,
                max_new_tokens=max_new_tokens,
                eos_token_id=self.stop_ids,
                pad_token_id=self.tokenizer.pad_token_id,
                do_sample=False,
                stopping_criteria=stopping,
                output_logits=True,
                return_dict_in_generate=True,
            )
        logprobs = torch.stack(out.logits, 1).float().log_softmax(-1)  # (batch, steps, vocab)
        new_tokens = out.sequences[:, prompt_length:]
        pads = (batch["attention_mask"] == 0).sum(1).tolist()
        results = []
        for row, tokens in enumerate(new_tokens.tolist()):
            n = self._length_to_stop(tokens)
            kept = [t for t in tokens[:n] if t not in self.stop_ids]
            lp = logprobs[row, : len(kept)]
            chosen = lp.gather(1, torch.tensor(kept, dtype=torch.long)[:, None])[:, 0] if kept else lp[:, 0]
            attention = _attention_rows(captured, row, pads[row], prompt_length, len(kept)) if with_attention else None
            results.append(
                ScoredText(
                    text=self.tokenizer.decode(kept, skip_special_tokens=True),
                    pieces=[self.tokenizer.decode([t]) for t in kept],
                    probs=chosen.exp().tolist(),
                    entropies=(-(lp.exp() * lp).nan_to_num().sum(-1)).tolist(),
                    attention=attention,
                    prompt_length=prompt_length - pads[row],
                )
            )
        self.generated_tokens += sum(len(r.pieces) for r in results)
        return results

    @contextmanager
    def _last_layer_attention(self, captured: list[Tensor]) -> Iterator[None]:
        """Records, at every decoding step, the last query row of the last layer's attention, averaged
        over heads: (batch, positions so far)."""
        layer = self.model.get_decoder().layers[-1].self_attn
        attention = self.model.config._attn_implementation
        self.model.set_attn_implementation("eager")
        handle = layer.register_forward_hook(lambda module, args, output: captured.append(output[1][:, :, -1].mean(1)))
        try:
            yield
        finally:
            handle.remove()
            self.model.set_attn_implementation(attention)

    def _length_to_stop(self, tokens: list[int]) -> int:
        """A finished sequence is padded to the batch's length; count it up to its stop token only."""
        for i, token in enumerate(tokens):
            if token in self.stop_ids:
                return i + 1
            if token == self.tokenizer.pad_token_id:
                return i
        return len(tokens)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _stop_token_ids(self) -> list[int]:
        """End of turn first (it closes training sequences), then the model's own end-of-text tokens."""
        ids: list[int] = []
        end_of_turn = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(end_of_turn, int) and end_of_turn != self.tokenizer.unk_token_id:
            ids.append(end_of_turn)
        eos = self.model.generation_config.eos_token_id or self.tokenizer.eos_token_id
        for token in eos if isinstance(eos, list) else [eos]:
            if token is not None and token not in ids:
                ids.append(token)
        return ids

    def continuations_logprob(self, prompt: str, continuations: list[str], factors: Factors | None = None) -> list[float]:
        """log p(each continuation | prompt), in nats: the prompt runs once and each continuation reads its
        cache (cut back to the prompt after each), so scoring an answer's many aliases costs one prompt."""
        prompt_ids = self._ids(prompt)
        cache = DynamicCache(config=self.model.config)
        scores = []
        with torch.inference_mode(), self.plug.plugged(factors):
            # Only the prompt's last position predicts: the head over every prompt position (a 150k-word
            # vocabulary for Qwen) would cost a fifth of the pass and a gigabyte of logits.
            last = self.model(input_ids=torch.tensor([prompt_ids]), cache=cache, use_cache=True, logits_to_keep=1).logits
            first = last[0, -1:].float().log_softmax(-1)  # the distribution of each continuation's first token
            for continuation in continuations:
                ids = self._ids(continuation)
                if not ids:
                    scores.append(0.0)
                    continue
                later = self.model(input_ids=torch.tensor([ids]), cache=cache, use_cache=True).logits
                cache.crop(-len(ids))  # back to the prompt alone
                steps = torch.cat([first, later[0, :-1].float().log_softmax(-1)])
                scores.append(steps.gather(1, torch.tensor(ids)[:, None]).sum().item())
        return scores


def _attention_rows(captured: list[Tensor], row: int, pad: int, prompt_length: int, tokens: int) -> Tensor:
    """Generated token j is the query at decoding step j + 1; the step-0 capture is the prompt's last token."""
    positions = prompt_length - pad + tokens
    rows = torch.zeros(tokens, positions)
    for j in range(min(tokens, len(captured) - 1)):
        weights = captured[j + 1][row, pad:].float()
        rows[j, : min(positions, weights.numel())] = weights[:positions]
    return rows


class _TextDone(StoppingCriteria):
    """Per-sequence early stop on the decoded continuation."""

    def __init__(self, tokenizer, prompt_length: int, done: Callable[[str], bool]):
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.done = done

    def __call__(self, input_ids: Tensor, scores: Tensor, **kwargs) -> Tensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([self.done(text) for text in texts], dtype=torch.bool, device=input_ids.device)

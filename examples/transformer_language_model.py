"""A small causal Transformer language model, trained on a generated corpus.

A PyTorch program run on ember (`import ember as torch`): word embeddings plus learned position
embeddings, a TransformerEncoder whose self-attention is masked causally (each word sees only the
words before it), and a linear layer to next-word logits. The corpus comes from a tiny grammar, so
no download is needed; the loss falls from log(vocabulary) toward the grammar's entropy.

    python examples/transformer_language_model.py [steps]
"""

import math
import random
import sys

import ember as torch
from ember import nn

SUBJECTS = ["the cat", "the dog", "a bird", "my friend", "the old man", "a child"]
VERBS = ["sees", "likes", "chases", "finds", "follows"]
OBJECTS = ["the ball", "a red box", "the small mouse", "the tree", "a green hat"]
PLACES = ["in the park", "near the house", "by the river", "at night"]


def make_corpus(sentences: int, seed: int = 0) -> list:
    """Words of `sentences` random sentences of the grammar, each ending with '.'."""
    rng = random.Random(seed)
    words = []
    for _ in range(sentences):
        sentence = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if rng.random() < 0.5:
            sentence += f" {rng.choice(PLACES)}"
        words += sentence.split() + ["."]
    return words


class TransformerLM(nn.Module):
    """Embedding + position embedding -> causal TransformerEncoder -> Linear."""

    def __init__(self, vocab: int, d_model: int = 32, nhead: int = 4, layers: int = 2,
                 context: int = 16) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        length = tokens.shape[1]
        positions = torch.arange(length)
        x = self.embed(tokens) * math.sqrt(self.embed.embedding_dim) + self.position(positions)
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        x = self.encoder(x, mask=mask, is_causal=True)
        return self.head(x)


def batches(ids, context: int, batch_size: int, rng: random.Random):
    """(inputs, targets): random windows of the corpus and the same windows shifted by one."""
    starts = [rng.randrange(len(ids) - context - 1) for _ in range(batch_size)]
    inputs = torch.tensor([ids[s:s + context] for s in starts])
    targets = torch.tensor([ids[s + 1:s + context + 1] for s in starts])
    return inputs, targets


def train(steps: int = 300, context: int = 16, batch_size: int = 16, seed: int = 0,
          log_every: int = 50) -> list:
    """Train the model; return the loss of every step."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    words = make_corpus(2000, seed)
    vocab = sorted(set(words))
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index[w] for w in words]
    model = TransformerLM(len(vocab), context=context)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for step in range(steps):
        inputs, targets = batches(ids, context, batch_size, rng)
        logits = model(inputs)
        loss = loss_fn(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            print(f"step {step:4d}  loss {loss.item():.3f}  (uniform: {math.log(len(vocab)):.3f})")
    return losses


if __name__ == "__main__":
    train(int(sys.argv[1]) if len(sys.argv) > 1 else 300)

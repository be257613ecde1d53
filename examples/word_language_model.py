"""A word-level LSTM language model, trained on a generated corpus.

A PyTorch program run on ember (`import ember as torch`), shaped like PyTorch's own
word_language_model example: the corpus is batchified into columns, trained with truncated
backpropagation through time (the hidden state is carried across batches and detached), and the
model is Embedding -> 2-layer LSTM -> Linear with the decoder's weight tied to the embedding's.
The corpus comes from a tiny grammar, so no download is needed; the loss falls from
log(vocabulary) toward the grammar's entropy.

    python examples/word_language_model.py [epochs]
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
    """Words of `sentences` random sentences of the grammar, each ending with '<eos>'."""
    rng = random.Random(seed)
    words = []
    for _ in range(sentences):
        sentence = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        if rng.random() < 0.5:
            sentence += f" {rng.choice(PLACES)}"
        words += sentence.split() + ["<eos>"]
    return words


class RNNModel(nn.Module):
    """Embedding -> dropout -> LSTM -> dropout -> Linear, decoder weight tied to the encoder."""

    def __init__(self, ntoken: int, ninp: int = 32, nlayers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, ninp, nlayers, dropout=dropout)
        self.decoder = nn.Linear(ninp, ntoken)
        self.decoder.weight = self.encoder.weight  # weight tying (Press & Wolf, 2016)
        self.nlayers, self.nhid = nlayers, ninp
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output))
        return decoded.view(-1, decoded.size(-1)), hidden

    def init_hidden(self, batch_size: int):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, batch_size, self.nhid),
                weight.new_zeros(self.nlayers, batch_size, self.nhid))


def batchify(ids, batch_size: int):
    """The token ids as (steps, batch_size) columns, dropping the remainder."""
    data = torch.tensor(ids, dtype=torch.long)
    steps = data.size(0) // batch_size
    return data[:steps * batch_size].view(batch_size, -1).t().contiguous()


def get_batch(source, i: int, bptt: int):
    """Inputs source[i:i+bptt] and the flattened next-word targets."""
    length = min(bptt, len(source) - 1 - i)
    return source[i:i + length], source[i + 1:i + 1 + length].reshape(-1)


def repackage_hidden(h):
    """Cut the hidden state from the previous batch's graph (truncated BPTT)."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def train(epochs: int = 6, sentences: int = 400, batch_size: int = 16, bptt: int = 12,
          lr: float = 10.0, log_every: int = 20, seed: int = 0) -> list:
    """Train the model; return the loss of every batch."""
    torch.manual_seed(seed)
    words = make_corpus(sentences, seed)
    vocab = sorted(set(words))
    index = {w: i for i, w in enumerate(vocab)}
    data = batchify([index[w] for w in words], batch_size)
    model = RNNModel(len(vocab))
    criterion = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        model.train()
        hidden = model.init_hidden(batch_size)
        for batch, i in enumerate(range(0, data.size(0) - 1, bptt)):
            inputs, targets = get_batch(data, i, bptt)
            hidden = repackage_hidden(hidden)
            model.zero_grad()
            output, hidden = model(inputs, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
            if log_every and batch % log_every == 0:
                print(f"epoch {epoch} batch {batch:3d} loss {loss.item():.3f} "
                      f"ppl {math.exp(loss.item()):.1f}")
    return losses


if __name__ == "__main__":
    history = train(epochs=int(sys.argv[1]) if len(sys.argv) > 1 else 6)
    print(f"first loss {history[0]:.3f}, last loss {history[-1]:.3f}")

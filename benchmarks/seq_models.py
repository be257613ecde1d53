"""Sequence models for the benchmarks, written once and built with either library.

`define(torch)` returns {name: constructor}; each model maps a (seq, batch) LongTensor of token
ids to (seq, batch, vocab) logits, and `train_step` times one Adam step of next-token
cross-entropy on the same random data (seq 35, batch 20, vocabulary 1000).
Other sequence models (e.g. the Transformer language model) are appended to `define`.
"""

VOCAB, SEQ, BATCH = 1000, 35, 20


def define(torch):
    """Return {name: constructor} of the sequence models for one library."""
    nn = torch.nn

    class LSTMLanguageModel(nn.Module):
        """Embedding(1000, 128) -> LSTM(128, 256, 2 layers) -> Linear(256, 1000)."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 128)
            self.lstm = nn.LSTM(128, 256, num_layers=2)
            self.decoder = nn.Linear(256, VOCAB)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.decoder(output)

    class TransformerLanguageModel(nn.Module):
        """Embedding(1000, 128) -> 2-layer causal TransformerEncoder (4 heads, feed-forward 256,
        batch_first) -> Linear(128, 1000)."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 128)
            layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=256, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.decoder = nn.Linear(128, VOCAB)

        def forward(self, tokens):
            x = self.embedding(tokens.t())
            mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[0])
            x = self.encoder(x, mask=mask, is_causal=True)
            return self.decoder(x).transpose(0, 1)

    class GPTBlock(nn.Module):
        """A GPT-2 style block as nanoGPT writes it: pre-LayerNorm, causal self-attention by
        hand (masked_fill, softmax, dropout), a GELU MLP of 4x width, residuals."""

        def __init__(self, width=128, heads=4):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.fc, self.out = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
            self.register_buffer("mask", torch.tril(torch.ones(SEQ, SEQ)).view(1, 1, SEQ, SEQ))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2)
                       for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5)
            att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
            att = torch.nn.functional.dropout(att.softmax(dim=-1), 0.1, self.training)
            y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.proj(y)
            return x + self.out(torch.nn.functional.gelu(self.fc(self.ln2(x))))

    class GPTLanguageModel(nn.Module):
        """Token and position embeddings (128) -> 2 GPTBlocks -> LayerNorm -> Linear(128, 1000)."""

        def __init__(self):
            super().__init__()
            self.tokens, self.positions = nn.Embedding(VOCAB, 128), nn.Embedding(SEQ, 128)
            self.blocks = nn.Sequential(GPTBlock(), GPTBlock())
            self.ln = nn.LayerNorm(128)
            self.head = nn.Linear(128, VOCAB, bias=False)

        def forward(self, tokens):
            ids = tokens.t()
            x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
            return self.head(self.ln(self.blocks(x))).transpose(0, 1)

    return {"lstm-lm": LSTMLanguageModel, "transformer-lm": TransformerLanguageModel,
            "gpt-lm": GPTLanguageModel}


def train_step(torch, constructor):
    """One timed training step: forward, cross-entropy over the vocabulary, backward, Adam."""
    torch.manual_seed(0)
    model = constructor()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    tokens = torch.randint(0, VOCAB, (SEQ, BATCH))
    targets = torch.randint(0, VOCAB, (SEQ, BATCH))

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(tokens).reshape(-1, VOCAB), targets.reshape(-1))
        loss.backward()
        optimizer.step()

    return step

# Feeds each block the previous block's output (a chain), instead of giving every block the same X
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        if not blocks:
            raise ValueError("no block")
        self.blocks = nn.ModuleList(blocks)
        self.dim = dim

    def forward(self, X):
        outputs = []
        for block in self.blocks:
            X = block(X)
            outputs.append(X)
        return torch.cat(outputs, dim=self.dim)

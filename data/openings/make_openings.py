#!/usr/bin/env python3
"""Writes the story openings used to train (self-distillation) and evaluate the stories260K MTP adapter.

Deterministic. The held-out set uses character names and a few templates that never occur in the training set,
so evaluation measures how well the adapter predicts the model's future on openings it has never seen.
"""
import random

TRAIN_NAMES = ["Lily", "Tom", "Ben", "Sue", "Max", "Mia", "Sam", "Anna", "Tim", "Lucy", "Jack", "Emma", "Sara",
               "Bob", "Kate", "Jane", "Mark", "Amy", "Jill", "Ted"]
HELDOUT_NAMES = ["Zoe", "Leo", "Ella", "Finn", "Rosie", "Noah", "Ruby", "Jake"]
ANIMALS = ["cat", "dog", "bird", "bunny", "bear", "fish", "frog", "duck", "mouse", "lion"]
THINGS = ["ball", "box", "kite", "toy", "hat", "cake", "car", "book", "flower", "boat"]
COLORS = ["red", "blue", "big", "small", "shiny", "green", "yellow", "pretty"]
PLACES = ["park", "forest", "beach", "garden", "house", "school", "lake", "farm"]

TEMPLATES = [
    "Once upon a time, there was a little {animal} named {name}.",
    "One day, {name} went to the {place}.",
    "{name} had a {color} {thing}.",
    "{name} and {name2} played in the {place}.",
    "{name} wanted to find a {thing}.",
    "Once upon a time, {name} saw a {color} {animal}.",
    "{name} was a happy {animal}.",
    "One day, {name} found a {color} {thing} in the {place}.",
    "{name} liked to play with {name2}.",
    "There was a {color} {thing} in the {place}.",
    "{name} loved to eat",
    "Mom said to {name},",
    "{name} was sad because",
    "The {animal} and {name} went to the {place}.",
]
HELDOUT_ONLY_TEMPLATES = [
    "One sunny day, {name} and a {animal} walked to the {place}.",
    "{name} looked at the {color} {thing} and smiled.",
]


def fill(t, rng, names):
    n1, n2 = rng.sample(names, 2)
    return t.format(name=n1, name2=n2, animal=rng.choice(ANIMALS), thing=rng.choice(THINGS),
                    color=rng.choice(COLORS), place=rng.choice(PLACES))


def make(count, templates, names, seed):
    rng = random.Random(seed)
    out = []
    seen = set()
    while len(out) < count:
        s = fill(rng.choice(templates), rng, names)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


train = make(600, TEMPLATES, TRAIN_NAMES, 1)
heldout = make(150, TEMPLATES + HELDOUT_ONLY_TEMPLATES, HELDOUT_NAMES, 2)
assert not set(train) & set(heldout)
with open("train.txt", "w") as f:
    f.write("\n".join(train) + "\n")
with open("heldout.txt", "w") as f:
    f.write("\n".join(heldout) + "\n")

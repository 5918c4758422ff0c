#!/usr/bin/env bash
# Copyright (c) mmppm contributors. All rights reserved.
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# GPUS is the number of processes per node; without CUDA they run on CPU
# (gloo). One node on 127.0.0.1 (the default) listens on loopback only
# (docs/reliability.md). Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
$PYTHON -m mmppm.engine.cli.dist_run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/train.py \
    $CONFIG \
    --launcher pytorch ${@:3}

#!/usr/bin/env bash
# Copyright (c) mmppm contributors. All rights reserved.
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
#        bash tools/dist_test.sh CONFIG GPUS [test.py args...]
# CHECKPOINT may be "none" or '' (no checkpoint: plain PPM has no trained
# weights); a numeric second argument is taken as GPUS with no checkpoint.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT.

CONFIG=$1
if [[ "$2" =~ ^[0-9]+$ ]]; then
    CHECKPOINT=none
    GPUS=$2
    EXTRA_ARGS=("${@:3}")
else
    CHECKPOINT=${2:-none}
    GPUS=$3
    EXTRA_ARGS=("${@:4}")
fi
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
    $(dirname "$0")/test.py \
    $CONFIG \
    "$CHECKPOINT" \
    --launcher pytorch \
    "${EXTRA_ARGS[@]}"

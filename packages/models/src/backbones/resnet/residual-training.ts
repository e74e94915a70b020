import * as tf from '@tensorflow/tfjs-core';
import { distinctTensors, gradientReleaser, TensorUses } from '../../layers/backward-release';
import { batchNormVariables, type ConvUnit, type ForwardContext } from '../../layers/conv-unit';
import {
  recordFromSlots,
  recordTensors,
  trainingUnitBackward,
  trainingUnitForward,
  type TrainingUnit,
  type UnitGradients,
  type UnitRecord,
} from '../../layers/conv-batch-norm-training';
import { tfPadding } from '../../layers/convolution';
import { recomputingConvolutions } from '../../layers/training-memory';
import type { ResidualBlock } from './resnet-architecture';

// Training (batch-statistics) passes of residual blocks as custom ops with hand-written backward passes:
// - a block as ONE op: the shortcut fork and the residual add stay inside it, so the tape holds one gradient per block
//   instead of two per fork (tfjs keeps the second addend of an accumulated gradient until the backward pass ends);
//   it saves each unit's conv input, conv output, [C] moments and ReLU output once (a unit's output is the next
//   unit's input), and frees each as soon as the block's backward no longer needs it;
// - a stage as ONE op (`recompute`): saves only the stage input and recomputes the stage's forward inside its
//   backward pass (activation recomputation, as torch.utils.checkpoint per stage): one stage's activations at a time.

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/** The units of one block with their variables, downsample (if any) last. */
interface BlockUnits {
  units: TrainingUnit[];
  downsample?: TrainingUnit;
}

function trainingUnit(convUnit: ConvUnit, context: ForwardContext, relu: boolean, hasShortcut: boolean): TrainingUnit {
  return {
    filter: context.variable(`${convUnit.conv}.weight`) as tf.Tensor as tf.Tensor4D,
    bn: batchNormVariables(context, convUnit.bn),
    stride: convUnit.geometry.stride,
    pad: tfPadding(convUnit.geometry.padding),
    relu,
    hasShortcut,
  };
}

function blockUnits(block: ResidualBlock, context: ForwardContext): BlockUnits {
  const last = block.units.length - 1;
  const units = block.units.map((convUnit, index) => trainingUnit(convUnit, context, block.relu, index === last));
  return block.downsample ? { units, downsample: trainingUnit(block.downsample, context, false, false) } : { units };
}

/** Units in record order: the block's units, then its downsample. */
function recordOrder(block: BlockUnits): TrainingUnit[] {
  return block.downsample ? [...block.units, block.downsample] : block.units;
}

function variablesOf(units: readonly TrainingUnit[]): tf.Tensor[] {
  return units.flatMap((unit) => [unit.filter, unit.bn.weight, unit.bn.bias]);
}

function gradientsOf(gradients: readonly UnitGradients[]): tf.Tensor[] {
  return gradients.flatMap((gradient) => [gradient.filter, gradient.weight, gradient.bias]);
}

/** Forward of a block without a tape; records in {@link recordOrder}. The caller owns the value and the records. */
function blockForward(
  x: tf.Tensor4D,
  block: BlockUnits,
  update: boolean,
): { value: tf.Tensor4D; records: UnitRecord[] } {
  const keepConvolved = !recomputingConvolutions();
  const downsample = block.downsample
    ? trainingUnitForward(x, block.downsample, update, undefined, keepConvolved)
    : undefined;
  const shortcut = downsample ? downsample.value : x;
  const records: UnitRecord[] = [];
  const last = block.units.length - 1;
  let value = x;
  block.units.forEach((unit, index) => {
    const step = trainingUnitForward(value, unit, update, index === last ? shortcut : undefined, keepConvolved);
    records.push(step.record);
    value = step.value;
  });
  // The downsample's output (no ReLU) is the shortcut only: its backward needs its input and conv output.
  if (downsample) {
    downsample.value.dispose();
    records.push(downsample.record);
  }
  return { value, records };
}

/**
 * Backward of a block: the units in reverse, then the downsample; dx = dx(first unit) + dshortcut (identity) or
 * dx(downsample). Releases each record tensor after its last use (`uses`) and each intermediate gradient at once.
 * @param releaseDy releases the incoming dy once used. @returns dx and the gradients in record order.
 */
function blockBackward(
  dy: tf.Tensor,
  records: readonly UnitRecord[],
  block: BlockUnits,
  uses: TensorUses,
  releaseDy: (dy: tf.Tensor) => void,
): { input: tf.Tensor4D; gradients: UnitGradients[] } {
  const gradients: UnitGradients[] = [];
  let gradient = dy;
  let shortcut: tf.Tensor4D | undefined;
  for (let index = block.units.length - 1; index >= 0; index--) {
    const record = records[index] as UnitRecord;
    const unitGradients = trainingUnitBackward(gradient, record, block.units[index] as TrainingUnit, true);
    if (gradient === dy) releaseDy(dy);
    else gradient.dispose();
    uses.release(...recordTensors(record));
    shortcut ??= unitGradients.shortcut;
    gradients[index] = unitGradients;
    gradient = unitGradients.input as tf.Tensor4D;
  }
  let fromShortcut = shortcut as tf.Tensor4D;
  if (block.downsample) {
    const record = records[block.units.length] as UnitRecord;
    const downsampleGradients = trainingUnitBackward(fromShortcut, record, block.downsample, true);
    fromShortcut.dispose();
    uses.release(...recordTensors(record));
    gradients.push(downsampleGradients);
    fromShortcut = downsampleGradients.input as tf.Tensor4D;
  }
  const input = tf.add(gradient, fromShortcut) as tf.Tensor4D;
  tf.dispose([gradient, fromShortcut]);
  return { input, gradients };
}

function countUses(records: readonly UnitRecord[]): TensorUses {
  const uses = new TensorUses();
  for (const record of records) uses.add(...recordTensors(record));
  return uses;
}

/** One residual block as one custom op (see the top of this file). @returns the block output (caller disposes). */
export function residualBlockTraining(
  x: tf.Tensor4D,
  block: ResidualBlock,
  context: ForwardContext,
  update: boolean,
): tf.Tensor4D {
  const units = blockUnits(block, context);
  const ordered = recordOrder(units);
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { value, records } = blockForward(args[0] as tf.Tensor4D, units, update);
    const { list, slots } = distinctTensors(records.flatMap(recordTensors));
    save(list);
    const width = recordTensors(records[0] as UnitRecord).length;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const releaseDy = gradientReleaser();
        return tf.tidy(() => {
          const savedRecords = ordered.map((_, index) =>
            recordFromSlots(saved, slots.slice(index * width, (index + 1) * width)),
          );
          const { input, gradients } = blockBackward(dy, savedRecords, units, countUses(savedRecords), releaseDy);
          return [input, ...gradientsOf(gradients)];
        });
      },
    };
  }) as unknown as CustomGradFunction);
  return op(x, ...variablesOf(ordered)) as tf.Tensor4D;
}

/**
 * The blocks of one stage as one custom op that saves only the stage input and recomputes the stage's forward
 * (without updating the moving statistics again; the batch statistics are the same) inside its backward pass.
 * @returns the stage output (caller disposes).
 */
export function recomputedStageTraining(
  x: tf.Tensor4D,
  blocks: readonly ResidualBlock[],
  context: ForwardContext,
  update: boolean,
): tf.Tensor4D {
  const stage = blocks.map((block) => blockUnits(block, context));
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor4D;
    let value = input;
    for (const block of stage) {
      const step = blockForward(value, block, update);
      // Keep only the block output: dispose the records' tensors (never the stage input, the op's argument).
      const output = step.value;
      const spare = new Set(step.records.flatMap(recordTensors));
      spare.delete(output);
      spare.delete(input);
      tf.dispose([...spare].filter((tensor): tensor is tf.Tensor => tensor !== undefined));
      if (value !== input) value.dispose();
      value = output;
    }
    save([input]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const releaseDy = gradientReleaser();
        return tf.tidy(() => {
          // Recompute: every block's records, at once for the stage (released as the backward pass goes).
          const { records, recomputed } = tf.tidy(() => {
            const perBlock: UnitRecord[][] = [];
            let value = saved[0] as tf.Tensor4D;
            for (const block of stage) {
              const step = blockForward(value, block, false);
              perBlock.push(step.records);
              value = step.value;
            }
            return { records: perBlock, recomputed: value } as unknown as tf.TensorContainer;
          }) as unknown as { records: UnitRecord[][]; recomputed: tf.Tensor4D };
          const uses = countUses(records.flat());
          if (!records.flat().some((record) => record.output === recomputed)) recomputed.dispose();
          const gradients: tf.Tensor[][] = [];
          let gradient = dy;
          for (let index = stage.length - 1; index >= 0; index--) {
            const release = gradient === dy ? releaseDy : (tensor: tf.Tensor) => tensor.dispose();
            const step = blockBackward(
              gradient,
              records[index] as UnitRecord[],
              stage[index] as BlockUnits,
              uses,
              release,
            );
            gradients[index] = gradientsOf(step.gradients);
            gradient = step.input;
          }
          return [gradient, ...gradients.flat()];
        });
      },
    };
  }) as unknown as CustomGradFunction);
  return op(x, ...stage.flatMap((block) => variablesOf(recordOrder(block)))) as tf.Tensor4D;
}

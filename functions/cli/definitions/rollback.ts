import { Option, type Command } from 'commander';
import type { RollbackCommandOptions } from '../commands/rollback';
import {
  DEFAULT_RECORDS_DIR,
  addLiveSourceOptions,
  addRecordKeyOptions,
  type CommandSetup,
} from './options';

/** Defines `vpc-guard rollback`; its implementation is loaded when it runs. */
export function defineRollbackCommand(program: Command, setup: CommandSetup): Command {
  const command = program
    .command('rollback')
    .argument('<record>', 'a record written by `vpc-guard apply` (in --records)')
    .summary('undo an apply run from its record')
    .description(
      'Plan the inverse of an apply run from its record: restore the previous endpoint policies, ' +
        'remove what vpc-guard created, undo private DNS and coverage changes, recreate removed ' +
        'routes and, with --recreate-nat, the deleted NAT gateways (same subnet, same Elastic IP). ' +
        'Without --yes it only shows the plan. The record must carry a MAC that verifies with ' +
        '--record-key or --record-key-file; an unsigned one is refused unless --accept-unsigned.',
    )
    .addOption(new Option('-y, --yes', 'apply the rollback plan'))
    .addOption(new Option('--dry-run', 'send every write with DryRun; nothing changes'))
    .addOption(
      new Option('--recreate-nat', 'recreate deleted NAT gateways and point their routes at them'),
    )
    .addOption(
      new Option(
        '--accept-unsigned',
        'act on a record without a verified MAC, after showing every write in full (a bad MAC is refused all the same)',
      ),
    )
    .addOption(
      new Option('--records <dir>', 'directory for the rollback record').default(
        DEFAULT_RECORDS_DIR,
      ),
    )
    .addOption(new Option('--no-color', 'plain text, even on a terminal'));
  return addLiveSourceOptions(
    addRecordKeyOptions(command, 'verify (and sign the rollback)'),
    'implied',
  ).action(async (record: string, options: RollbackCommandOptions) => {
    const { runRollback } = await import('../commands/rollback');
    setup.onExit(await runRollback(record, options, setup.context, setup.deps));
  });
}

import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parseEvalFile, runEval, type EvalOutcome } from '../../analyst/eval/run-eval.js';
import { openAnalyst } from '../../analyst/open-analyst.js';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { IqueryError } from '../../errors.js';
import { withData } from '../open-data.js';
import { printJson, printLine, printNote, type GlobalOptions } from '../output.js';
import { renderTable } from '../render-table.js';

function percent(part: number, whole: number): string {
  return whole === 0 ? '–' : `${((part / whole) * 100).toFixed(1)}%`;
}

export function registerEvalCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('eval')
    .description('Score the offline analyst on a question set (execution accuracy against reference SQL)')
    .argument('<file>', 'a question set (YAML; see eval/README.md)')
    .option('--verbose', 'list every question that was not answered correctly, with why')
    .action(async (file: string, commandOptions: { verbose?: boolean }) => {
      const options = globals();
      if (!existsSync(file)) throw new IqueryError('not_found', `No question set at ${file}.`, { hint: 'Give a YAML file such as eval/dev.yaml.' });
      const set = parseEvalFile(readFileSync(file, 'utf8'), file);
      const home = iqueryHome();
      const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
      await withData(options, async (source) => {
        const { analyst } = await openAnalyst(source, {
          ...(options.dict === undefined ? {} : { dictPath: options.dict }),
          ...(dataPath === undefined ? {} : { dataPath }),
          ...(set.today === undefined ? {} : { today: set.today }),
        });
        const report = await runEval(set, analyst, source, (outcome: EvalOutcome) => {
          if (!options.json && commandOptions.verbose === true && outcome.verdict !== 'correct') printNote(`${outcome.verdict.toUpperCase()} ${outcome.id} ${outcome.question}\n    ${outcome.detail ?? ''}`);
        });
        if (options.json) {
          printJson(report);
          return;
        }
        const rows = [
          ['all', String(report.questions), percent(report.correct, report.questions), percent(report.abstained, report.questions), percent(report.wrong, report.questions)],
          ...(['zh', 'en'] as const).map((language) => {
            const part = report.byLanguage[language];
            return [language, String(part.questions), percent(part.correct, part.questions), percent(part.abstained, part.questions), percent(part.wrong, part.questions)];
          }),
        ];
        printLine(renderTable(['questions', 'count', 'answered correct', 'abstained', 'wrong'], rows, { rightAligned: new Set([1, 2, 3, 4]) }));
        printLine(`planning: ${report.planning.meanMs.toFixed(2)} ms per question on average, ${report.planning.maxMs.toFixed(2)} ms at most`);
      });
    });
}

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// What the Lambda bundles are built from must stay small to import (docs/PERFORMANCE.md, "Function
// bundles: what is in them"). esbuild cannot shake a namespace that is re-exported by name:
// `import { z } from 'zod'` (ours or Powertools parser's) bundles all of zod, every locale included.
const zodNamespace = {
  selector:
    "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
  message:
    "Use `import * as z from 'zod'`: `{ z }` makes esbuild bundle every zod locale (~350 KB per function).",
};
const powertoolsParser = {
  group: ['@aws-lambda-powertools/parser', '@aws-lambda-powertools/parser/*'],
  message:
    'Its modules import `{ z }` from zod (whole zod in the bundle): use functions/runtime/event-envelopes.ts.',
};
// The functions read the policy as JSON; the YAML parser is for the CLI and the stack.
const yamlInFunctions = [
  {
    name: 'yaml',
    message: 'The Lambda functions bundle no YAML parser: read JSON (parseGuardPolicyJson).',
  },
  {
    name: '@vpc-guard/shared',
    importNames: ['parseGuardPolicy', 'loadGuardPolicy', 'guardPolicyAsJson'],
    message: 'These pull the YAML parser into a Lambda bundle: use parseGuardPolicyJson.',
  },
];

export const config = tseslint.config(
  { ignores: ['**/node_modules/**', '**/cdk.out/**', 'coverage/**', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['shared/src/**', 'functions/**'],
    rules: {
      'no-restricted-syntax': ['error', zodNamespace],
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [powertoolsParser] }],
    },
  },
  {
    files: ['functions/**'],
    ignores: ['functions/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: yamlInFunctions, patterns: [powertoolsParser] },
      ],
    },
  },
  {
    // The CLI's output is its product: only its printer writes to the console.
    files: ['functions/cli/printer.ts', 'test/bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);

export default config;

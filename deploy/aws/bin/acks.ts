#!/usr/bin/env node
// Prints every acknowledgement of the stack built from config.example.json
// as the Markdown table in docs/deploy-aws.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acknowledgements, markdownTable } from '../lib/acks';
import { buildApp } from '../lib/app';
import { parseConfig } from '../lib/config';

const cfg = parseConfig(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'config.example.json'), 'utf8')));
console.log(markdownTable(acknowledgements(buildApp(cfg).stack)));

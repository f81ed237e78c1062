/**
 * Every string the UI shows, in English and Chinese. `{name}` marks a value filled in by `translate`.
 * The default language follows the browser (Chinese for any `zh*`), until the user picks one.
 */
import { createContext, useContext } from 'react';

export const languages = ['en', 'zh'] as const;
export type Language = (typeof languages)[number];

const english = {
  menu: 'Menu',
  newChat: 'New chat',
  chats: 'Chats',
  noChats: 'No chats yet.',
  untitled: 'New chat',
  deleteChat: 'Delete this chat',
  chat: 'Chat',
  files: 'Files',
  dictionary: 'Dictionary',
  report: 'Report',
  memoryProposed: 'To remember for later questions: “{note}”',
  memoryConfirm: 'Remember',
  memoryDiscard: 'Discard',
  memorySaved: 'Remembered.',
  memoryDiscarded: 'Discarded.',
  unsupportedNumbers: '⚠ No result supports these numbers of the answer: {numbers}. Check them before relying on them.',
  otherLanguage: '中文',
  otherLanguageHint: 'Switch the interface to Chinese',
  offlineAnalyst: 'Offline analyst',
  model: 'Model: {model}',
  serverUnreachable: 'The iquery server cannot be reached: {message}',
  askPlaceholder: 'Ask about your data…',
  send: 'Send',
  stop: 'Stop',
  attach: 'Upload a data file (CSV, Excel, Parquet)',
  uploading: 'Uploading {name}…',
  uploaded: '{name} is uploaded as table {table}; questions in this chat now use it.',
  emptyTitle: 'What would you like to know?',
  emptyHint: 'Ask in English or Chinese about the data this server opened, or upload a CSV, Excel or Parquet file to analyse it.',
  working: 'Working…',
  plan: 'Plan',
  steps: 'Steps ({count})',
  sql: 'SQL',
  python: 'Python',
  approve: 'Approve',
  edit: 'Edit',
  skip: 'Skip',
  runAll: 'Run all',
  runEdited: 'Run edited code',
  cancel: 'Cancel',
  awaitingApproval: 'Waiting for your approval',
  decision_run: 'Approved',
  decision_edit: 'Edited and approved',
  decision_skip: 'Skipped',
  decision_run_all: 'Approved, with all that follows',
  previous: 'Previous',
  next: 'Next',
  rowsShown: 'Rows {from}–{to} of {total}',
  truncated: 'The result was cut at the row limit.',
  noRows: 'No rows.',
  status_stopped: 'Stopped.',
  status_needs_approval: 'Stopped: code is waiting for approval.',
  status_abstained: 'Not answered.',
  errorTitle: 'Error',
  workspaceFiles: 'Workspace files',
  noFiles: 'No files in this chat yet.',
  noChat: 'Start a chat first: files, uploads and reports belong to a chat.',
  download: 'Download',
  refresh: 'Refresh',
  upload: 'Upload a file',
  size: 'Size',
  modified: 'Modified',
  name: 'Name',
  makeReport: 'Report on the last answer',
  makingReport: 'Writing the report…',
  reportOf: 'Report: {path}',
  dictionaryTitle: 'Data dictionary',
  dictionaryVersion: '{name}, version {version}',
  tables: 'Tables',
  metrics: 'Metrics',
  column: 'Column',
  description: 'Description',
  sensitivity: 'Sensitivity',
  unit: 'Unit',
  label: 'Label',
  editYaml: 'Edit (YAML)',
  save: 'Save',
  reload: 'Reload',
  saved: 'Saved: version {version}.',
  problems: 'The dictionary was not saved:',
  lineColumn: 'line {line}, column {column}',
  loading: 'Loading…',
} as const;

export type MessageKey = keyof typeof english;

const chinese: Record<MessageKey, string> = {
  menu: '菜单',
  newChat: '新对话',
  chats: '对话',
  noChats: '还没有对话。',
  untitled: '新对话',
  deleteChat: '删除这个对话',
  chat: '对话',
  files: '文件',
  dictionary: '数据字典',
  report: '报告',
  memoryProposed: '记住以供后续提问使用：“{note}”',
  memoryConfirm: '记住',
  memoryDiscard: '不要',
  memorySaved: '已记住。',
  memoryDiscarded: '已丢弃。',
  unsupportedNumbers: '⚠ 回答中的这些数字没有任何结果支持：{numbers}。使用前请核实。',
  otherLanguage: 'English',
  otherLanguageHint: '切换到英文界面',
  offlineAnalyst: '离线分析',
  model: '模型：{model}',
  serverUnreachable: '无法连接 iquery 服务：{message}',
  askPlaceholder: '问一个数据问题…',
  send: '发送',
  stop: '停止',
  attach: '上传数据文件（CSV、Excel、Parquet）',
  uploading: '正在上传 {name}…',
  uploaded: '{name} 已上传为表 {table}，此对话中的问题将使用它。',
  emptyTitle: '想了解什么？',
  emptyHint: '可以用中文或英文就服务器打开的数据提问，也可以上传 CSV、Excel 或 Parquet 文件来分析。',
  working: '分析中…',
  plan: '计划',
  steps: '步骤（{count}）',
  sql: 'SQL',
  python: 'Python',
  approve: '批准运行',
  edit: '编辑',
  skip: '跳过',
  runAll: '全部运行',
  runEdited: '运行修改后的代码',
  cancel: '取消',
  awaitingApproval: '等待你的批准',
  decision_run: '已批准',
  decision_edit: '已修改并批准',
  decision_skip: '已跳过',
  decision_run_all: '已批准，后续代码也将直接运行',
  previous: '上一页',
  next: '下一页',
  rowsShown: '第 {from}–{to} 行，共 {total} 行',
  truncated: '结果已在行数上限处截断。',
  noRows: '没有数据。',
  status_stopped: '已停止。',
  status_needs_approval: '已停止：有代码等待批准。',
  status_abstained: '未能回答。',
  errorTitle: '错误',
  workspaceFiles: '工作区文件',
  noFiles: '此对话还没有文件。',
  noChat: '请先开始一个对话：文件、上传和报告都属于某个对话。',
  download: '下载',
  refresh: '刷新',
  upload: '上传文件',
  size: '大小',
  modified: '修改时间',
  name: '名称',
  makeReport: '为最近的回答生成报告',
  makingReport: '正在生成报告…',
  reportOf: '报告：{path}',
  dictionaryTitle: '数据字典',
  dictionaryVersion: '{name}，版本 {version}',
  tables: '表',
  metrics: '指标',
  column: '列',
  description: '说明',
  sensitivity: '敏感级别',
  unit: '单位',
  label: '显示名',
  editYaml: '编辑（YAML）',
  save: '保存',
  reload: '重新加载',
  saved: '已保存：版本 {version}。',
  problems: '数据字典未保存：',
  lineColumn: '第 {line} 行，第 {column} 列',
  loading: '加载中…',
};

const tables: Record<Language, Record<MessageKey, string>> = { en: english, zh: chinese };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(language: Language): Translate {
  return (key, values = {}) => tables[language][key].replace(/\{(\w+)\}/g, (whole, name: string) => String(values[name] ?? whole));
}

const storageKey = 'iquery.language';

/** The user's choice when there is one, else the browser's language. */
export function initialLanguage(): Language {
  const stored = localStorage.getItem(storageKey);
  if (stored === 'en' || stored === 'zh') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function rememberLanguage(language: Language): void {
  localStorage.setItem(storageKey, language);
}

export const MessagesContext = createContext<Translate>(translator('en'));

export function useMessages(): Translate {
  return useContext(MessagesContext);
}

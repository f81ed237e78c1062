/**
 * The small shop the agent's and the MCP server's tests question: twelve customers in a CSV folder,
 * with a dictionary in which names are confidential and national ids restricted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const customers = [
  'id,full_name,national_id,city,plan,monthly_fee,churned',
  '1,Alice Zhang,110101199001011234,Beijing,basic,20.5,0',
  '2,Bob Li,110101199002022345,Beijing,premium,80,1',
  '3,Carol Wang,310101198803033456,Shanghai,basic,22,0',
  '4,Dan Chen,310101198704044567,Shanghai,premium,95,1',
  '5,Eve Liu,440101199505055678,Guangzhou,basic,19,0',
  '6,Frank Zhao,440101199606066789,Guangzhou,premium,85,0',
  '7,Grace Sun,110101199707077890,Beijing,premium,90,1',
  '8,Heidi Zhou,310101199808088901,Shanghai,basic,21,0',
  '9,Ivan Wu,440101199909099012,Guangzhou,basic,18,1',
  '10,Judy Xu,110101198010100123,Beijing,basic,25,0',
  '11,Ken Ma,310101198111111234,Shanghai,premium,99,0',
  '12,Lucy Hu,440101198212122345,Guangzhou,premium,88,1',
].join('\n');

const tables = `name: shop
tables:
  customers:
    description: 客户 / customers
    primary_key: [id]
    columns:
      id: {description: customer id}
      full_name: {description: 姓名 / name, sensitivity: confidential}
      national_id: {description: 身份证号 / national id, sensitivity: restricted}
      city: {description: 城市 / city}
      plan: {description: 套餐 / plan, values: {basic: [基础版], premium: [高级版]}}
      monthly_fee: {description: 月费 / monthly fee, unit: CNY}
      churned: {description: 是否流失 / churned, values: {1: [流失, churned], 0: [留存, retained]}}
`;

const churnMetric = `metrics:
  churn_rate:
    label: 流失率
    synonyms: [churn rate]
    sql: AVG(customers.churned)
    format: percent
`;

/**
 * Writes `folder/shop/customers.csv` and the dictionary `folder/<dictionaryName>` (with the governed
 * `churn_rate` metric when asked); returns the `--data` folder and the dictionary's path.
 */
export function writeShopData(folder: string, options: { dictionaryName: string; churnMetric: boolean }): { data: string; dictionary: string } {
  const data = join(folder, 'shop');
  mkdirSync(data);
  writeFileSync(join(data, 'customers.csv'), customers + '\n');
  const dictionary = join(folder, options.dictionaryName);
  writeFileSync(dictionary, tables + (options.churnMetric ? churnMetric : ''));
  return { data, dictionary };
}

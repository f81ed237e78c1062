/**
 * The analyst's function words, in Chinese and English: what asks for an aggregate, a grouping, a
 * comparison, an order, a time window, a chart… The dictionary says what the data is called; this
 * table says how questions are built around it. Surfaces are written normalised (lower case, digits).
 */

import { normalize } from './text.js';

export type Keyword =
  | 'group'
  | 'avg'
  | 'sum'
  | 'min'
  | 'max'
  | 'median'
  | 'stddev'
  | 'variance'
  | 'percentile'
  | 'count'
  | 'how_much'
  | 'have'
  | 'growth'
  | 'whether'
  | 'including'
  | 'half_year'
  | 'difference'
  | 'or'
  | 'unit_money'
  | 'sort'
  | 'date_range'
  | 'distinct'
  | 'share'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'eq'
  | 'between'
  | 'and'
  | 'range_to'
  | 'null'
  | 'not_null'
  | 'not'
  | 'desc'
  | 'asc'
  | 'highest'
  | 'lowest'
  | 'top'
  | 'bottom'
  | 'histogram'
  | 'correlation'
  | 'missing'
  | 'duplicates'
  | 'distinct_values'
  | 'list_tables'
  | 'describe'
  | 'columns'
  | 'compare'
  | 'grain_day'
  | 'grain_week'
  | 'grain_month'
  | 'grain_quarter'
  | 'grain_year'
  | 'trend'
  | 'last'
  | 'this'
  | 'previous'
  | 'yoy'
  | 'mom'
  | 'unit_day'
  | 'unit_week'
  | 'unit_month'
  | 'unit_quarter'
  | 'unit_year'
  | 'year_suffix'
  | 'month_suffix'
  | 'bin'
  | 'every'
  | 'chart_bar'
  | 'chart_line'
  | 'chart_pie'
  | 'chart_scatter'
  | 'chart_histogram'
  | 'replace'
  | 'only'
  | 'also'
  | 'among'
  | 'percent_sign'
  | 'rows'
  | 'stop';

/** `words('avg', '平均|均值|average|mean')`. */
function words(keyword: Keyword, surfaces: string): [Keyword, string[]] {
  return [keyword, surfaces.split('|')];
}

const table: [Keyword, string[]][] = [
  words('group', '拆一下|拆开看|拆分一下|拆|one row per|one row for each|每个一行|combination|combinations|combo|combos|按|按照|根据|各|各个|每个|每种|每类|每一个|不同|分别|分|对于每个|by|per|for each|each|across each|group by|grouped by|broken down by|breakdown by|split by|for every|拆分|拆开|分拆|展开|展开看|细分|分开|分开看|交叉|组合|组合下|各组|每组|每档|分组统计|broken out by|split out by|combination of|each combination of|for every combination of|per combination of|cross|crossed with'),
  words('avg', '平均|平均值|均值|平均的|average|avg|mean'),
  words('sum', '加起来|加在一起|总和|合计|总计|总额|累计|之和|加总|add up|adds up|added up|summed|sum|total|sum of|in total|combined'),
  words('min', '最小|最小值|最少的|minimum|min|smallest|最便宜|最早|earliest|cheapest|lowest value'),
  words('max', '最大|最大值|maximum|max|largest|biggest|最晚|最贵的|latest|most recent'),
  words('median', '中位数|中值|median'),
  words('stddev', '波动|波动幅度|sample standard deviation|sample std|标准差|standard deviation|std dev|stddev|std'),
  words('variance', 'sample variance|方差|variance'),
  words('percentile', '百分位|百分位数|分位数|分位|percentile|th percentile|quantile|percentiles|quantiles'),
  words('count', 'row count|number of rows|行数|多少行|几行|多少|几个|几位|几名|几|数量|个数|人数|数目|计数|有多少|一共有|共有|总数|how many|number of|count|count of|counts|the number|次数|几次|多少次|多少人|有几个|几个人|人次|行数|how often|how many times|times'),
  words('how_much', 'did we bill|have we billed|we billed|billed in total|did we charge|did we earn|did we make|did we collect|invoiced|how much|多少钱|多少金额|收了多少钱|花了多少钱|多少收入|带来了多少|贡献了多少|贡献|带来'),
  words('have', 'who have|who has|that have|who use|who subscribe to|有|拥有|使用|用|用了|订阅了|办理了|开|开了|开通了|开通|签|签了|签约|订了|装了|have|has|having|with|use|uses|using|subscribed to|subscribe to'),
  words('date_range', 'date coverage|coverage|覆盖范围|时间范围|覆盖范围|覆盖的时间|起止时间|日期范围|date range|time range|time span|period covered|first and last'),
  words('sort', '排序|排名|排一下|排列|排个序|排|rank|ranked|ranking|sorted by|sort by|order by|sort|sorted|ordered by'),
  words('unit_money', '美元|元|块|块钱|dollars|dollar|usd|bucks'),
  words('or', '或|或者|或是|or|either'),
  words('difference', '多几|少几|多几个|少几个|多出|高出|低出|多多少|高多少|少多少|低多少|差多少|相差|差距|差额|差异|difference|differences|how much more|how much higher|how much lower|how much less|how many more|how many fewer|gap between'),
  words('whether', '是否|有无|有没有|是不是|whether|whether or not|if they'),
  words('growth', 'grow|grew|grown|rise|rose|增长|增长率|增速|涨幅|增幅|growth|growth rate|increase|rate of change'),
  words('distinct', '多少种|几种|多少个不同|不同的|去重|唯一|distinct|unique|different'),
  words('share', '占比|比例|比重|百分比|份额|占多少|所占比例|占|比率|percentage|percent of|share|proportion|fraction|what percent|what percentage|ratio|% of|百分之多少|占总|占全部|占所有|percent|percentage of all'),
  words('gt', '超过|大于|高于|多于|以上|超出|>|above|over|more than|greater than|higher than|exceeds|exceeding|exceed|larger than|bigger than|longer than'),
  words('gte', '及以上|或以上|以上含|满|不低于|不少于|至少|大于等于|>=|at least|no less than|or more'),
  words('lt', '小于|低于|少于|不到|以下|不足|<|below|under|less than|lower than|fewer than|shorter than|不满|少于|short of'),
  words('lte', '及以下|或以下|不超过|不高于|至多|最多不超过|小于等于|<=|at most|no more than|or less|up to'),
  words('eq', '等于|为|=|equal to|equals|exactly'),
  words('between', '介于|之间|在|between|from'),
  words('and', '+|和|与|及|以及|跟|but|and|&|并且|而且|同时|又|both|as well as|plus'),
  words('range_to', '到|至|~|-|to|through'),
  words('null', '为空|是空|空值|缺失|没有填|未填|is null|are null|null|missing|empty|blank'),
  words('not_null', '不为空|非空|不是空|有值|已填|not null|is not null|not missing|non-null|non null|not empty'),
  words('not', '没|非|不是|没有|不|未|除了|除|排除|不算|不包括|不含|不计|not|non|without|excluding|exclude|except|other than|don\'t have|do not have|doesn\'t have|does not have|no|不满|leaving out|leave out|excluding those|other than those'),
  words('desc', 'largest to smallest|from largest to smallest|highest to lowest|from highest to lowest|most to least|from most to least|biggest to smallest|biggest first|most first|largest first|highest first|从高到低|由高到低|从大到小|由大到小|降序|倒序|descending|desc|highest first|high to low|largest first|从多到少|由多到少|highest first|most first'),
  words('asc', 'smallest to largest|from smallest to largest|lowest to highest|from lowest to highest|least to most|from least to most|smallest first|least first|lowest first|fewest first|从低到高|由低到高|从小到大|由小到大|升序|ascending|asc|lowest first|low to high|smallest first|从少到多|由少到多|lowest first|least first|fewest first'),
  words('highest', '最高|最多|最大的|最长|最贵|highest|most|the most|longest|best|biggest|largest|strongest|top-performing'),
  words('lowest', '最低|最少|最小的|最短|最便宜|lowest|least|the least|fewest|shortest|worst|weakest|smallest'),
  words('top', '前|排名前|top|first'),
  words('bottom', '后|倒数|末|bottom|last'),
  words('histogram', '分布|分布情况|直方图|histogram|distribution|distributed|分布直方图|画一下分布'),
  words('correlation', '相关性|相关系数|相关|关联|correlation|correlated|correlate|relationship between|relation between|correlation coefficient|pearson'),
  words('missing', 'null count|null counts|number of nulls|null数量|空值数量|空值个数|缺失数|缺失数量|缺失值|空值情况|缺失情况|缺失率|missing values|null values|nulls|missing data|missingness'),
  words('duplicates', 'appear more than once|appears more than once|show up more than once|出现不止一次|不止一次|多于一次|重复|重复值|重复行|重复记录|duplicate|duplicates|duplicated|repeated'),
  words('distinct_values', 'are there|is there|there are|exist|有哪些|都有哪些|都有什么|有什么值|有哪些取值|values|有哪些值|取值|哪些值|可能的值|有哪几种|有哪些类型|有哪些种类|值有哪些|取值范围|distinct values|unique values|possible values|what values|which values|values of|categories of|what are the values'),
  words('list_tables', '数据集|这个数据集|data set|this dataset|有哪些表|哪些表|什么表|数据表|表有哪些|所有表|list tables|what tables|which tables|list the tables|show tables|tables are there|available tables|哪些数据表|有什么数据|数据库里有哪些表|what data|tables|dataset|data set|what is in the data|whats in the data'),
  words('describe', '描述|介绍|说明|结构|是什么意思|什么意思|含义|describe|description|explain|what does|what is in|schema|structure|tell me about|含义|代表什么|是什么含义|相关联|关联关系|how are|related|relationships|relate'),
  words('columns', '字段|列|有哪些字段|哪些列|columns|fields|column|字段有哪些|列名'),
  words('compare', '各是|各自是|各自|分别是|respectively|对比|比较|相比|比一比|对照|vs|vs.|versus|compared to|compared with|compare|comparison|against'),
  words('grain_day', '按天|按日|每天|每日|日度|逐日|daily|by day|per day|each day'),
  words('grain_week', '按周|每周|周度|weekly|by week|per week|each week'),
  words('grain_month', '按月|每月|月度|逐月|各月|每个月|分月|monthly|by month|per month|each month|month by month'),
  words('grain_quarter', '按季度|按季|每季度|每个季度|季度|各季度|分季度|quarterly|by quarter|per quarter|each quarter'),
  words('grain_year', '按年|每年|年度|逐年|各年|分年|yearly|annually|by year|per year|each year|annual'),
  words('trend', '趋势|走势|变化|over time|trend|trends|time series'),
  words('last', '过去|最近|近|前|last|past|previous|recent|the last|the past'),
  words('this', '本|今|这个|当前|this|current|so far this'),
  words('previous', '上|上个|上一个|去|last|previous|prior'),
  words('yoy', '比上一年|较上年|比上年|较上一年|去年同季度|上年同期|over the previous year|vs the prior year|versus the previous year|compared to the previous year|over the prior year|vs the previous year|同比|年同比|去年同月|去年同期|同月|year over year|year-over-year|yoy|year on year|vs last year|compared to last year|同期|去年同期|same period last year'),
  words('mom', '比上月|较上月|比上个月|over the previous month|vs the prior month|versus the previous month|环比|环比增长|month over month|month-over-month|mom|vs last month|compared to last month'),
  words('unit_day', '天|日|day|days'),
  words('unit_week', '周|星期|个星期|week|weeks'),
  words('unit_month', '月份|个月|月|month|months'),
  words('unit_quarter', '个季度|季度|季|quarter|quarters'),
  words('unit_year', '年|岁|year|years'),
  words('year_suffix', '年'),
  words('month_suffix', '月'),
  words('bin', 'group of|groups of|bucket of|buckets of|band of|bands of|bin of|bins of|in steps of|组距|一组|一档|一段|为一组|为一档|分组|分段|分档|区间|段|档|band|bands|bucket|buckets|bin|bins|interval|intervals|groups of|ranges|brackets|bracket|tiers'),
  words('every', '每|every|each|of width|width|wide|in steps of|step'),
  words('chart_bar', '柱状图|柱形图|条形图|柱图|bar chart|bar|bars|column chart'),
  words('chart_line', '折线图|线图|曲线|趋势图|line chart|line|line graph'),
  words('chart_pie', '饼图|饼状图|扇形图|pie chart|pie'),
  words('chart_scatter', '散点图|scatter plot|scatter|scatterplot'),
  words('chart_histogram', '直方图|histogram'),
  words('replace', '换成|改成|改为|换为|变成|切换成|switch to|change to|instead|make it|as a'),
  words('only', '只看|仅看|只|仅|只要|仅限|只算|only|just|limited to|restricted to'),
  words('also', '再|也|同时|另外|还有|加上|细分|also|as well|additionally|further|too|in addition'),
  words('among', '中|当中|之中|里|里面|其中|among|of all|out of|within|in'),
  words('percent_sign', '%|percent|pct'),
  words('rows', '明细|记录|列表|清单|列出|列举|罗列|rows|records|list|list all|list every|show all|show me the|名单|ids|id list|list their'),
  // More function words, added as questions showed them.
  words('stop', '水平|老板|能|拉|拉一下|多高|有多高|多大|有多大|全年|整年|两端|含两端|包括两端|简单|简单介绍|类型|种类|类别|检查|检查一下|行数据|数据行|还|仍|仍然|范围|上网|这批|那批|批|历史|起来|组合起来'),
  words('not', '从来没有|从未|从没'),
  words('share', '几成|占几成'),
  words('including', '包括|在内|包括在内|including|inclusive of|as well as those'),
  words('stop', 'sent|send|came|come|comes|came in|came from|comes from|brought|brought in|bring|bring in|brings|everyone|everybody|anyone|ends|end|both ends|both ends included|included|inclusive|filled|filled in|populated|present|once|more than once|rate|rates|ended up|ever|still|match|matches|even though|even|though|although|went out|go out|goes out|sample|since|plan|plans|counting|automatic|automatically|phone lines|lines|—|and so on|etc|split|paid'),
  words('not', 'never|neither|nor|none of|none'),
  words('stop', '到目前为止|为止|迄今|截至目前|截至今天|缴费|付费的'),
  words('half_year', '上半年|下半年|h1|h2|first half|second half'),
  words(
    'stop',
    [
      '咱们|咱|我司|公司的|我们公司|大家|目前的|现在的|当前的|一下子|一共是|分别有|各是|各为|是多少呢|怎么样呢|如何呢|帮忙|麻烦|请帮我|请给出|给出|告诉|了解|想了解|想看|想看看|看看|统计一下|计算一下|算算|查一下|查查|列一下|汇总|汇总一下|整理|整理一下|情况|状况|概况|数字|数值|指标|报表|结果是|的话|呢|吧|的|了|吗|范围|张|组|档|看|看看|看一下|瞧瞧|画|画一下|出|出了|当|当年|当月|含|包含|付|付费|付款|交|已经|已|却|但|但是|完整|单张|每张|出现|代表|多大|状态|多久|过|曾经|一次|至少一次|至少1次|数据库|这个|下|里面的|记录的|有哪些|情况如何||呢|吧|啊|呀|么|是|是多少|是什么|都|请|请问|帮我|帮忙|给我|我想|我想知道|想知道|告诉我|看看|看一下|看下|查看|查询|查|统计|计算|算|算一下|显示|展示|列出|给出|分析|一下|情况|怎么样|如何|怎样|哪个|哪些|哪|什么|谁|有着|的话|这些|那些|那|那么|这|现在|目前|我们|我们的|公司|整体|总体|全部|所有|全体|数据|信息|结果|分别是|各自|对应|相应|里的|中的|上的|所|其|该|个|位|名|人|条|笔|元|美元|块|左右|大约|大概|一共|共|总共|合在一起|以来|及其|它们|它的|他们|她们',
      'am|been|being|currently|presently|right now|kindly|quickly|roughly|approximately|about the|exactly how|in our|from our|of our|our customer|within our|for our|we have|have we|do i|can you|could you|would you|will you|i need|i want|need|want|wanna|gimme|pls|plz|please show|break down|breakdown|look at|take a look|check|see the|the data|in the data|from the data|database|db|stats|statistics|figure|figures|numbers|metric|metrics|report|summary|summarize|summarise|overview|tell me|let me know|whats|there are|there is|are there|is there|does it|do they|they|those who|the ones|folks who|each of|each of the|for all|all of|of all the|among all|by their|its|currently have|right|now|just the|only the|specifically|particular|particularly|respective|respectively|separately|individually|broken|along with|together with|vs the|against the|compared|relative to|per each|a|an|the|this|that|what|what is|table|some|any|been|ve|billed|bill|issued|issue|received|receive|fall|falls|inclusive|inclusively|recorded|one of|at least once|at least one|ever|often|more often|in total|across|overall|total of|do we have|does|did we|got|get|give|made|make|spent|spend|charge|charged|count them|so far|up to|including|and including|complete|full|calendar|this dataset|for me|could|analyze|analyse|be|being|same|another|other|each other|which ones|show it|it|one|such|both of|per customer|per person|each customer|what are|what was|what were|whats|what\'s|is|are|was|were|be|the|a|an|of|for|in|on|at|to|and|or|do|does|did|me|my|our|we|us|you|show|give|list|tell|please|can|could|would|i|i\'d|like|want|know|find|get|see|display|calculate|compute|how|which|who|there|that|those|these|this|it|its|their|they|them|all|overall|whole|entire|data|value|values|number|amount|had|used|pay|pays|paying|paid by|who are|that are|whose|whom|about|as|per cent|here|now|currently|so|also|just|some|any|each one|respectively|look|looking|at the|along|versus the|rate of the|across all|get me|let me|let\'s|lets|break|broken|down|split|into|out|up|them by|based on|based|their|its|his|her|people|person|persons|folks|ones|group|groups|category|categories|type|types|kind|kinds|segment|segments|level|levels|status|state|flag|field',
    ].join('|'),
  ),
];

/** Every keyword surface with its keywords (a surface may carry several: `last` is `top`-like and a time word). */
export const keywordSurfaces: ReadonlyMap<string, readonly Keyword[]> = (() => {
  const map = new Map<string, Keyword[]>();
  for (const [keyword, surfaces] of table) {
    for (const written of surfaces) {
      // Normalised like questions are (`一档` becomes `1档`), so that both sides meet.
      const surface = normalize(written);
      if (surface === '') continue;
      const list = map.get(surface) ?? [];
      if (!list.includes(keyword)) list.push(keyword);
      map.set(surface, list);
    }
  }
  return map;
})();
